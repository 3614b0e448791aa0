"""一网通办: the service catalogue, e-licences, online applications, consultation and proactive
services. Sub-packages keep the usual file roles: ``catalogue`` (政务服务事项, 一件事),
``licences`` (电子证照), ``applications`` (办件), ``consult`` (掌上咨询), ``proactive`` (服务找人)."""
