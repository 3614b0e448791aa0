"""办件 through the service layer: prefill (零材料), drafts, submission with consent, parallel
approval, 一次性告知, the instant process, 代办, scope, bundles, progress and 好差评."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Rating
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.i18n import translate
from cityos.core.pagination import PageParams
from cityos.identity.models import Notification, SmsMessage
from cityos.services.applications import progress as progress_mod
from cityos.services.applications import service as applications
from cityos.services.applications import steps as dept_steps
from cityos.services.applications import submission
from cityos.services.applications.models import Application, ApplicationDepartment, SupplementRequest
from cityos.services.licences.models import Credential, CredentialUse
from cityos.workflow.models import ProcessInstance
from tests.services.applications_fixtures import SINGLE_FORM, AppWorld, app_world  # noqa: F401

MONDAY = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Chengdu, a working day


def _elderly(session: Session, aw: AppWorld, **kwargs: object) -> Application:
    app = applications.start_draft(session, aw.resident, item_code="t-elderly")
    return submission.submit(session, aw.resident, application_id=app.id, consent=True, **kwargs)  # type: ignore[arg-type]


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_prefill_takes_the_record_and_credentials(session: Session, aw: AppWorld) -> None:
    filled = applications.prefill(session, aw.resident, item_code="t-elderly")
    assert filled.values["name"] == "王秀英"
    assert filled.values["phone"] == "13912345678"
    assert filled.values["address"].startswith("测试市甲区")
    assert filled.locked["id_number"] == "person"
    [material] = filled.materials
    assert material.proved
    assert material.credential_kind == "id_card"
    assert [c.kind_code for c in filled.credentials] == ["id_card"]
    assert filled.missing == []
    assert filled.paper == []
    single = applications.prefill(session, aw.resident, item_code="t-single")
    assert single.missing == ["reason"]  # a form field the applicant must fill
    assert single.credentials == []


def test_masked_hides_identity_numbers_without_pii_read(aw: AppWorld) -> None:
    values = {"id_number": "510104196003011234", "phone": "13912345678", "name": "王秀英"}
    shown = applications.masked(values, aw.clerk, aw.person.region_path)
    assert shown["id_number"] == "510104********1234"
    assert shown["phone"] == "139****5678"
    assert shown["name"] == "王秀英"


def test_parallel_approval_needs_both_departments(session: Session, aw: AppWorld) -> None:
    app = _elderly(session, aw, now=MONDAY)
    assert app.status == "submitted"
    assert app.zero_material is True
    assert app.submitted_at == MONDAY
    assert app.due_at is not None
    assert app.due_at > MONDAY + timedelta(days=5)
    assert sorted(app.department_ids) == sorted([aw.mzj.id, aw.jtj.id])
    instance = session.get(
        ProcessInstance, session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()))
    )
    assert instance is not None
    assert instance.data["departments"] == [str(aw.mzj.id), str(aw.jtj.id)]
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    assert app.status == "approving"
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    assert app.status == "approving"  # 交通运输局 has not signed yet
    assert app.result_credential_id is None
    with pytest.raises(Conflict):
        dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="approve")
    assert app.status == "approved"
    assert app.decided_at is not None
    credential = session.get(Credential, app.result_credential_id)
    assert credential is not None
    assert credential.kind_code == "elderly_card"
    assert credential.holder_person_id == aw.person.id
    assert credential.issuer_department_id == aw.mzj.id
    decisions = session.scalars(
        select(ApplicationDepartment.decision).where(ApplicationDepartment.application_id == app.id)
    )
    assert sorted(decisions) == ["approved", "approved"]


def test_one_refusal_rejects_a_parallel_application(session: Session, aw: AppWorld) -> None:
    app = _elderly(session, aw)
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    with pytest.raises(Invalid) as exc:
        dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="reject")
    assert exc.value.details[0].field == "comment"
    dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="reject", comment="不符合条件")
    assert app.status == "rejected"
    assert app.decision_note == "不符合条件"
    assert app.result_credential_id is None


def test_single_department_lifecycle(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-single")
    applications.save_draft(session, aw.resident, application_id=app.id, form={"reason": "生活困难"})
    assert applications.form_of(app)["reason"] == "生活困难"
    app = submission.submit(session, aw.resident, application_id=app.id, form=SINGLE_FORM, consent=False)
    assert app.status == "submitted"
    assert app.department_ids == [aw.mzj.id]
    with pytest.raises(NotFound):  # not with 交通运输局: it does not even see it
        dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="receive")
    with pytest.raises(Invalid):
        dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="supplement")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    assert app.status == "approved"
    assert app.result_credential_id is None
    with pytest.raises(Conflict):
        dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")


def test_instant_item_is_decided_on_submission(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-instant")
    app = submission.submit(
        session, aw.resident, application_id=app.id, form={"name": "王秀英", "purpose": "出行"}, consent=False
    )
    assert app.status == "approved"
    credential = session.get(Credential, app.result_credential_id)
    assert credential is not None
    assert credential.kind_code == "approval_notice"


def test_consent_is_required_and_recorded_per_credential(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-elderly")
    with pytest.raises(Invalid) as exc:
        submission.submit(session, aw.resident, application_id=app.id, consent=False)
    assert [d.field for d in exc.value.details] == ["consent"]
    assert app.status == "draft"
    uses_before = _count(session, CredentialUse)
    submission.submit(session, aw.resident, application_id=app.id, consent=True)
    uses = list(session.scalars(select(CredentialUse).where(CredentialUse.subject_id == app.no)))
    assert len(uses) == 1 == _count(session, CredentialUse) - uses_before
    assert uses[0].credential_id == app.credential_ids[0]
    assert uses[0].subject_type == "application"


def test_schema_errors_are_field_level_and_nothing_is_stored(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-single")
    bad = {
        "name": "王",
        "household_size": "two",
        "income": -1,
        "reason": "x" * 11,
        "kind": "c",
        "since": "2026-13-01",
        "code": "12",
    }
    with pytest.raises(Invalid) as exc:
        submission.submit(session, aw.resident, application_id=app.id, form=bad, consent=True)
    fields = {d.field: d for d in exc.value.details}
    # the name comes from the resident record, so the typed "王" is not even looked at
    assert set(fields) == {"household_size", "income", "reason", "kind", "since", "code"}
    assert translate(fields["household_size"].message, "zh_CN", **fields["household_size"].params) == "必须是整数。"
    assert translate(fields["kind"].message, "en", **fields["kind"].params) == "Choose one of: 城市、农村."
    assert translate(fields["reason"].message, "zh_CN", **fields["reason"].params) == "最多 10 个字符。"
    assert translate(fields["income"].message, "en", **fields["income"].params) == "Must be at least 0."
    assert app.status == "draft"
    assert app.submitted_at is None
    assert _count(session, ApplicationDepartment) == 0
    with pytest.raises(Invalid) as missing:
        submission.submit(session, aw.resident, application_id=app.id, form={}, consent=True)
    assert {d.field for d in missing.value.details} == {"household_size", "reason", "kind"}
    assert translate(missing.value.details[0].message, "zh_CN") == "此项必填。"


def test_bad_drafts_are_refused(session: Session, aw: AppWorld) -> None:
    with pytest.raises(Invalid) as exc:
        applications.start_draft(session, aw.resident, item_code="nope")
    assert exc.value.details[0].field == "item_code"
    with pytest.raises(Invalid):
        applications.start_draft(session, aw.resident, item_code="t-single", channel="fax")
    with pytest.raises(Forbidden):
        applications.start_draft(session, aw.resident, item_code="t-single", person_id=aw.neighbour.person_id)
    app = applications.start_draft(session, aw.resident, item_code="t-single")
    with pytest.raises(Invalid) as unknown:
        applications.save_draft(session, aw.resident, application_id=app.id, form={"salary": 1})
    assert unknown.value.details[0].field == "salary"
    with pytest.raises(Invalid):
        applications.save_draft(session, aw.resident, application_id=app.id, form=["not", "a", "form"])
    with pytest.raises(NotFound):
        applications.save_draft(session, aw.neighbour, application_id=app.id, form={})
    submission.submit(session, aw.resident, application_id=app.id, form=SINGLE_FORM, consent=False)
    with pytest.raises(Conflict):
        applications.save_draft(session, aw.resident, application_id=app.id, form={})


def test_no_department_found_is_a_clear_error(session: Session, aw: AppWorld) -> None:
    from tests.services.applications_fixtures import add_item

    add_item(session, "t-nodept", department_kinds=["zzz"], form_schema={})
    app = applications.start_draft(session, aw.resident, item_code="t-nodept")
    with pytest.raises(Invalid) as exc:
        submission.submit(session, aw.resident, application_id=app.id, consent=False)
    [detail] = exc.value.details
    assert detail.field == "item_code"
    assert detail.params == {"kind": "zzz"}
    assert app.status == "draft"


def test_supplement_lists_everything_and_resumes(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-single")
    submission.submit(session, aw.resident, application_id=app.id, form=SINGLE_FORM, consent=False)
    with pytest.raises(Invalid) as empty:
        dept_steps.request_supplement(session, aw.mzj_staff, application_id=app.id, items=[])
    assert empty.value.details[0].field == "items"
    with pytest.raises(Invalid) as bad:
        dept_steps.request_supplement(
            session,
            aw.mzj_staff,
            application_id=app.id,
            items=[
                {"key": "reason", "reason": ""},
                {"key": "salary", "reason": "缺"},
                {"key": "reason", "reason": "x"},
            ],
        )
    assert [d.field for d in bad.value.details] == ["items.0.reason", "items.1.key", "items.2.key"]
    assert app.status == "submitted"
    request = dept_steps.request_supplement(
        session,
        aw.mzj_staff,
        application_id=app.id,
        items=[{"key": "reason", "reason": "请写明困难原因"}, {"key": "income", "reason": "请填写实际收入"}],
    )
    assert app.status == "supplement"
    assert len(request.items) == 2
    with pytest.raises(Conflict):
        dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    with pytest.raises(Invalid) as unanswered:
        dept_steps.answer_supplement(session, aw.resident, application_id=app.id, form={"reason": "失业"})
    assert [d.field for d in unanswered.value.details] == ["income"]
    with pytest.raises(Forbidden):
        dept_steps.answer_supplement(session, aw.mzj_staff, application_id=app.id, form={})
    dept_steps.answer_supplement(session, aw.resident, application_id=app.id, form={"reason": "失业", "income": 0})
    assert app.status == "submitted"
    assert applications.form_of(app)["reason"] == "失业"
    assert session.get(SupplementRequest, request.id).answered_at is not None  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        dept_steps.answer_supplement(session, aw.resident, application_id=app.id, form={"reason": "再次"})
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    assert app.status == "approved"


def test_scope_of_departments_and_areas(session: Session, aw: AppWorld) -> None:
    app = _elderly(session, aw)
    draft = applications.start_draft(session, aw.resident, item_code="t-single")
    assert applications.get_visible(session, aw.mzj_staff, app.id) is app
    assert applications.get_visible(session, aw.commander, app.id) is app
    for outsider in (aw.mzj_b_staff, aw.commander_b, aw.neighbour, aw.clerk_b):
        with pytest.raises(NotFound):
            applications.get_visible(session, outsider, app.id)
    with pytest.raises(NotFound):  # a draft is the applicant's own
        applications.get_visible(session, aw.commander, draft.id)
    with pytest.raises(NotFound):
        dept_steps.act(session, aw.mzj_b_staff, application_id=app.id, action="receive")
    rows, total = applications.list_applications(session, aw.mzj_staff, view="inbox", params=PageParams())
    assert [a.id for a in rows] == [app.id]
    assert total == 1
    rows, _ = applications.list_applications(session, aw.mzj_b_staff, view="inbox", params=PageParams())
    assert rows == []
    rows, _ = applications.list_applications(session, aw.resident, view="mine", params=PageParams())
    assert {a.id for a in rows} == {app.id, draft.id}
    rows, _ = applications.list_applications(session, aw.commander_b, view="area", params=PageParams())
    assert rows == []
    with pytest.raises(Forbidden):
        applications.list_applications(session, aw.resident, view="inbox", params=PageParams())
    with pytest.raises(Invalid):
        applications.list_applications(session, aw.resident, view="everything", params=PageParams())


def test_a_clerk_files_for_a_resident(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.clerk, item_code="t-elderly", person_id=aw.person.id, channel="counter")
    assert app.filed_by_account_id == aw.clerk.account_id
    assert app.applicant_account_id == aw.resident_account_id
    assert app.applicant_person_id == aw.person.id
    submission.submit(session, aw.clerk, application_id=app.id, consent=True)
    assert app.status == "submitted"
    assert app.channel == "counter"
    use = session.scalar(select(CredentialUse).where(CredentialUse.subject_id == app.no))
    assert use is not None
    assert use.account_id == aw.clerk.account_id
    assert applications.get_visible(session, aw.resident, app.id) is app  # the resident follows it
    with pytest.raises(Forbidden):  # only the clerk who filed it submits its steps
        dept_steps.answer_supplement(session, aw.resident, application_id=app.id, form={})
    with pytest.raises(Invalid):  # a resident outside the clerk's district
        applications.start_draft(session, aw.clerk_b, item_code="t-elderly", person_id=aw.person.id)


def test_bundle_is_one_form_and_one_submission(session: Session, aw: AppWorld) -> None:
    form = {**SINGLE_FORM, "purpose": "一件事"}
    apps = submission.submit_bundle(session, aw.resident, bundle_code="t-bundle", form=form, consent=True)
    assert [a.item_code for a in apps] == ["t-single", "t-instant"]
    assert len({a.bundle_group for a in apps}) == 1
    assert apps[0].bundle_code == "t-bundle"
    assert [a.status for a in apps] == ["submitted", "approved"]
    assert applications.form_of(apps[1]) == {"name": "王秀英", "purpose": "一件事"}


def test_bundle_errors_leave_nothing(session: Session, aw: AppWorld) -> None:
    before = _count(session, Application)
    with pytest.raises(Invalid) as exc:
        submission.submit_bundle(session, aw.resident, bundle_code="t-bundle", form={"name": "王秀英"}, consent=True)
    assert {"household_size", "reason", "kind", "purpose"} <= {d.field for d in exc.value.details}
    session.rollback()
    assert _count(session, Application) == before
    with pytest.raises(Invalid):
        submission.submit_bundle(session, aw.resident, bundle_code="nope", form={}, consent=True)


def test_progress_shows_holders_since_and_deadlines(session: Session, aw: AppWorld) -> None:
    app = _elderly(session, aw, now=MONDAY)
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive", now=MONDAY + timedelta(hours=1))
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve", now=MONDAY + timedelta(hours=2))
    steps = progress_mod.progress(session, aw.resident, app.id)
    assert [s.key for s in steps] == ["applied", "submitted", "approving"]
    applied, received, approving = steps
    assert applied.done
    assert applied.since == MONDAY
    assert received.done
    assert received.deadline is not None
    assert "甲区民政局" in received.holder
    assert approving.current
    assert approving.since == MONDAY + timedelta(hours=1)
    assert approving.deadline == app.due_at
    assert [(p.name, p.done) for p in approving.parties] == [("甲区民政局", True), ("甲区交通运输局", False)]
    dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="approve", now=MONDAY + timedelta(hours=3))
    steps = progress_mod.progress(session, aw.resident, app.id)
    assert steps[-1].key == "approved"
    assert steps[-1].current
    assert steps[-1].done
    with pytest.raises(NotFound):
        progress_mod.progress(session, aw.neighbour, app.id)


def test_rating_once_and_one_change(session: Session, aw: AppWorld) -> None:
    app = applications.start_draft(session, aw.resident, item_code="t-single")
    submission.submit(session, aw.resident, application_id=app.id, form=SINGLE_FORM, consent=False)
    with pytest.raises(Conflict):
        dept_steps.rate(session, aw.resident, application_id=app.id, level=5)
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    with pytest.raises(Invalid):
        dept_steps.rate(session, aw.resident, application_id=app.id, level=9)
    with pytest.raises(Forbidden):
        dept_steps.rate(session, aw.mzj_staff, application_id=app.id, level=5)
    first = dept_steps.rate(session, aw.resident, application_id=app.id, level=5)
    second = dept_steps.rate(session, aw.resident, application_id=app.id, level=2, comment="太慢")
    assert (first.revision, second.revision) == (1, 2)
    assert app.rating == 2
    with pytest.raises(Conflict):
        dept_steps.rate(session, aw.resident, application_id=app.id, level=4)
    rows = session.scalars(select(Rating.level).where(Rating.subject_type == "application"))
    assert sorted(rows) == [2, 5]


def test_notifications_follow_each_step(session: Session, aw: AppWorld) -> None:
    from cityos.identity.models import Account

    staff_ids = []
    for dept in (aw.mzj, aw.jtj):
        account = Account(
            username=f"staff-{dept.id}",
            display_name="科员",
            scope_region_id=aw.world.district_a.id,
            scope_path=aw.world.district_a.path,
            department_id=dept.id,
            active=True,
            failed_attempts=0,
        )
        session.add(account)
        session.flush()
        staff_ids.append(account.id)
    app = _elderly(session, aw)
    session.commit()
    for account_id in staff_ids:
        titles = list(session.scalars(select(Notification.title).where(Notification.account_id == account_id)))
        assert any(app.no in t for t in titles), titles
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="receive")
    dept_steps.act(session, aw.mzj_staff, application_id=app.id, action="approve")
    dept_steps.act(session, aw.jtj_staff, application_id=app.id, action="approve")
    session.commit()
    mine = list(session.scalars(select(Notification).where(Notification.account_id == aw.resident_account_id)))
    assert len(mine) >= 3  # submitted, received, approved
    assert any("sms" in n.channels for n in mine)
    assert session.scalar(select(func.count()).select_from(SmsMessage)) >= 1
    dept_steps.rate(session, aw.resident, application_id=app.id, level=1, comment="差")
    session.commit()
    for account_id in staff_ids:
        titles = list(session.scalars(select(Notification.title).where(Notification.account_id == account_id)))
        assert len(titles) >= 2
