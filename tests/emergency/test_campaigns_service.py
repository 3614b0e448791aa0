"""Campaigns from templates: the shipped templates, one-step creation over a scope, publishing
(tasks per building or unit, set-based), closing, scope enforcement and form versions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.emergency.campaigns import forms, kinds, reports
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign, CampaignForm, CampaignTemplate, SuppliesItem, Task
from cityos.people.models import Residence
from tests.emergency.campaigns_fixtures import FEVER, GOOD, NOW, TODAY, CampWorld, camp_world  # noqa: F401


def test_install_ships_three_templates_and_keeps_edits(session: Session, cw: CampWorld) -> None:
    keys = [t.key for t in campaigns.templates(session)]
    assert keys == ["epidemic_screening", "flood_check", "heat_visits"]
    tpl = session.get(CampaignTemplate, "flood_check")
    assert tpl is not None
    tpl.description = "本市修改过的说明"
    session.flush()
    campaigns.install(session)
    assert session.get(CampaignTemplate, "flood_check").description == "本市修改过的说明"  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(CampaignTemplate)) == 3
    for tpl in kinds.TEMPLATES.values():
        schema = tpl.form
        assert schema["x-order"] == list(schema["properties"])
        assert all("title" in p for p in schema["properties"].values())
        assert any("x-abnormal" in p for p in schema["properties"].values())
        assert tpl.help_categories
        assert tpl.supplies


def test_create_from_template_in_one_step(session: Session, cw: CampWorld) -> None:
    c = campaigns.create_from_template(
        session, cw.staff, template="flood_check", scope_region_id=cw.world.grid1.id, now=NOW
    )
    assert c.status == "draft"
    assert c.title == "防汛排查 · 第一网格"
    assert c.scope_path == cw.world.grid1.path
    assert c.settings["task_level"] == "unit"
    form = campaigns.form_of(session, c)
    assert form.version == 1
    assert form.schema["properties"]["household_status"]["title"] == "住户情况"
    codes = session.scalars(select(SuppliesItem.code).where(SuppliesItem.campaign_id == c.id)).all()
    assert set(codes) == {"water", "food", "blanket"}


def test_create_refuses_bad_input_with_field_errors(session: Session, cw: CampWorld) -> None:
    with pytest.raises(Invalid) as exc:
        campaigns.create_from_template(
            session, cw.staff, template="nope", scope_region_id=cw.world.room.id, title="长" * 129
        )
    fields = {d.field for d in exc.value.details}
    assert fields == {"template", "scope_region_id", "title"}
    with pytest.raises(Invalid) as exc:  # another community is outside the worker's area
        campaigns.create_from_template(session, cw.staff, template="flood_check", scope_region_id=cw.other_community.id)
    assert [d.field for d in exc.value.details] == ["scope_region_id"]
    with pytest.raises(Forbidden):
        campaigns.create_from_template(
            session, cw.grid_worker, template="flood_check", scope_region_id=cw.world.grid1.id
        )
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1  # nothing half-written


def test_publish_generates_tasks_per_building_or_unit(session: Session, cw: CampWorld) -> None:
    tasks = session.scalars(select(Task).where(Task.campaign_id == cw.campaign.id)).all()
    # 幸福社区 has two buildings (1栋 in grid 1, 2栋 in grid 2): one door-to-door task each.
    assert sorted(t.region_id for t in tasks) == sorted([cw.world.building.id, cw.building2.id])
    assert {t.kind for t in tasks} == {"door_check"}
    assert {t.status for t in tasks} == {"open"}
    flood = campaigns.create_from_template(
        session, cw.staff, template="flood_check", scope_region_id=cw.world.community.id, now=NOW
    )
    published = campaigns.publish(session, cw.staff, campaign_id=flood.id, now=NOW)
    assert published.tasks == 2
    assert published.buildings == 2
    units = session.scalars(select(Task.region_id).where(Task.campaign_id == flood.id)).all()
    assert sorted(units) == sorted([cw.world.unit.id, cw.world.other_room.parent_id])
    with pytest.raises(Conflict):
        campaigns.publish(session, cw.staff, campaign_id=flood.id)
    closed = campaigns.close(session, cw.staff, campaign_id=flood.id, now=NOW)
    assert closed.status == "closed"
    assert closed.ended_at == NOW
    with pytest.raises(Conflict):
        campaigns.close(session, cw.staff, campaign_id=flood.id)


def test_a_community_sees_only_its_campaigns(session: Session, cw: CampWorld) -> None:
    theirs = campaigns.create_from_template(
        session, cw.other_staff, template="heat_visits", scope_region_id=cw.other_community.id
    )
    assert [c.id for c in campaigns.list_campaigns(session, cw.staff)] == [cw.campaign.id]
    assert [c.id for c in campaigns.list_campaigns(session, cw.other_staff)] == [theirs.id]
    # The street sees both; a grid worker and a resident see the one covering them (published only).
    assert {c.id for c in campaigns.list_campaigns(session, cw.observer)} == {cw.campaign.id, theirs.id}
    assert [c.id for c in campaigns.list_campaigns(session, cw.grid_worker)] == [cw.campaign.id]
    assert [c.id for c in campaigns.list_campaigns(session, cw.resident)] == [cw.campaign.id]
    with pytest.raises(NotFound):
        campaigns.get_campaign(session, cw.staff, theirs.id)
    with pytest.raises(NotFound):
        campaigns.publish(session, cw.staff, campaign_id=theirs.id)
    with pytest.raises(Forbidden):  # the observer reads, never changes
        campaigns.close(session, cw.observer, campaign_id=cw.campaign.id)
    # Reports of the other community are not in this community's lists, and the other way round.
    reports.submit_report(session, cw.staff, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=GOOD, now=NOW)
    with pytest.raises(NotFound):
        reports.list_reports(session, cw.other_staff, campaign_id=cw.campaign.id, day=TODAY)
    lines, total = reports.list_reports(session, cw.observer, campaign_id=cw.campaign.id, day=TODAY)
    assert total == 1
    assert lines[0].name == "居**"
    with pytest.raises(NotFound):  # a region of the other community is outside this campaign
        reports.list_reports(session, cw.staff, campaign_id=cw.campaign.id, day=TODAY, region_id=cw.other_community.id)
    lines, total = reports.list_reports(session, cw.grid_worker2, campaign_id=cw.campaign.id, day=TODAY)
    assert total == 0  # grid 2's worker does not see grid 1's reports


def test_form_changed_mid_campaign_keeps_old_answers_readable(session: Session, cw: CampWorld) -> None:
    old = reports.submit_report(
        session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.person.id, answers=FEVER, now=NOW
    )
    assert old.form_version == 1
    questions = [q.__dict__ for q in forms.questions_of(campaigns.form_of(session, cw.campaign).schema)]
    questions = [q for q in questions if q["key"] != "close_contact"]  # a question removed
    questions[0]["title"] = "今日体温(℃)"  # one renamed
    questions.insert(1, {"key": "travel", "kind": "yesno", "title": "近7天是否离开本市", "required": True})
    v2 = campaigns.save_form(session, cw.staff, campaign_id=cw.campaign.id, questions=questions, now=NOW)
    assert v2.version == 2
    assert cw.campaign.form_version == 2
    assert campaigns.save_form(session, cw.staff, campaign_id=cw.campaign.id, questions=questions).version == 2
    with pytest.raises(Invalid) as exc:  # the old answers no longer fit the new form
        reports.submit_report(
            session, cw.resident, campaign_id=cw.campaign.id, person_id=cw.family.id, answers=FEVER, now=NOW
        )
    assert {d.field for d in exc.value.details} == {"close_contact", "travel"}
    new = reports.submit_report(
        session,
        cw.resident,
        campaign_id=cw.campaign.id,
        person_id=cw.family.id,
        answers={"temperature": 36.5, "travel": False, "test_result": "negative"},
        now=NOW,
    )
    assert new.form_version == 2
    shown_old = reports.get_report(session, cw.staff, report_id=old.id)
    assert shown_old.version == 1
    assert [(q, a) for _, q, a in shown_old.answers] == [
        ("体温(℃)", "38.2"),
        ("今日症状", "发热、咳嗽"),
        ("最近一次检测结果", "待出结果"),
        ("是否为密接或次密接", "否"),
    ]
    shown_new = reports.get_report(session, cw.staff, report_id=new.id)
    assert [q for _, q, _ in shown_new.answers] == ["今日体温(℃)", "近7天是否离开本市", "最近一次检测结果"]
    versions = campaigns.form_versions(session, cw.campaign)
    assert [v.version for v in versions] == [1, 2]
    assert session.scalar(select(func.count()).select_from(CampaignForm)) == 2


def test_form_builder_refuses_bad_questions(session: Session, cw: CampWorld) -> None:
    bad = [
        {"key": "Bad Key", "kind": "text", "title": "x"},
        {"key": "a", "kind": "single", "title": "选择", "options": ["只有一个"]},
        {"key": "a", "kind": "number", "title": "", "abnormal": {"gte": "hot"}},
        {"key": "c", "kind": "weird", "title": "x"},
        {"key": "d", "kind": "single", "title": "选", "options": ["甲", "乙"], "abnormal": {"in": ["丙"]}},
    ]
    with pytest.raises(Invalid) as exc:
        campaigns.save_form(session, cw.staff, campaign_id=cw.campaign.id, questions=bad)
    assert {d.field for d in exc.value.details} == {
        "questions.0.key",
        "questions.1.options",
        "questions.2.key",
        "questions.2.title",
        "questions.2.abnormal.gte",
        "questions.3.kind",
        "questions.4.abnormal",
    }
    with pytest.raises(Invalid):
        campaigns.save_form(session, cw.staff, campaign_id=cw.campaign.id, questions=[])
    with pytest.raises(Forbidden):
        campaigns.save_form(session, cw.grid_worker, campaign_id=cw.campaign.id, questions=bad)
    assert cw.campaign.form_version == 1


def test_choice_options_keep_their_values_across_versions(session: Session, cw: CampWorld) -> None:
    questions = [
        {
            "key": "mood",
            "kind": "single",
            "title": "心情",
            "options": [["good", "好"], ["", "一般"], ["", "差"]],
            "abnormal": {"in": ["差"]},  # by label: the new option has no value yet
        },
        {"key": "signs", "kind": "multiple", "title": "症状", "options": ["发热", "咳嗽"], "abnormal": {"any": ["o1"]}},
        {"key": "temp", "kind": "number", "title": "体温", "minimum": 34, "maximum": 43, "abnormal": {"gte": 37.3}},
        {"key": "seen", "kind": "date", "title": "日期"},
        {"key": "ok", "kind": "yesno", "title": "安好", "abnormal": {"equals": False}},
    ]
    saved = campaigns.save_form(session, cw.staff, campaign_id=cw.campaign.id, questions=questions)
    qs = forms.questions_of(saved.schema)
    assert qs[0].options == [("good", "好"), ("o1", "一般"), ("o2", "差")]
    assert qs[0].abnormal == {"in": ["o2"]}
    assert qs[1].options == [("o1", "发热"), ("o2", "咳嗽")]
    answers = {"mood": "o2", "signs": ["o1"], "temp": 37.5, "seen": "2026-12-07", "ok": False}
    assert forms.check_answers(saved.schema, answers) == []
    assert forms.abnormal_fields(saved.schema, answers) == ["mood", "signs", "temp", "ok"]
    assert forms.abnormal_fields(saved.schema, {"mood": "good", "signs": ["o2"], "temp": 36.1, "ok": True}) == []
    problems = forms.check_answers(saved.schema, {"mood": "bad", "signs": ["o9"], "temp": 50, "seen": "7/12"})
    assert [p.field for p in problems] == ["mood", "signs", "temp", "seen"]


def test_task_list_counts_each_buildings_residents_special_groups_and_reached(session: Session, cw: CampWorld) -> None:
    from cityos.emergency.campaigns import work

    # building 1: 居民甲 and 居民乙 in room 101, 居民丙 (pregnant) and 居民丁 (key group) in 102;
    # building 2: 居民戊. The other community's 居民己 is no task of this campaign.
    reports.mark_reached(
        session, cw.staff, campaign_id=cw.campaign.id, person_ids=[cw.neighbour.id, cw.person.id], how="door", now=NOW
    )
    reports.mark_reached(session, cw.staff, campaign_id=cw.campaign.id, person_ids=[cw.far.id], how="phone", now=NOW)
    views = {v.task.region_id: v for v in work.list_tasks(session, cw.staff, campaign_id=cw.campaign.id)}
    assert set(views) == {cw.world.building.id, cw.building2.id}
    one, two = views[cw.world.building.id], views[cw.building2.id]
    assert (one.residents, one.special, one.reached) == (4, 1, 2)
    assert (two.residents, two.special, two.reached) == (1, 0, 1)
    # a resident who moved out is no longer counted; the reach already recorded stays
    session.execute(update(Residence).where(Residence.person_id == cw.neighbour.id).values(until=TODAY))
    again = work.task_view(session, cw.staff, one.task.id)
    assert (again.residents, again.special, again.reached) == (3, 0, 2)
