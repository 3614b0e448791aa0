"""应急: campaigns over the region tree. Sub-packages keep the usual file roles: ``addressbook``
(云上通讯录: groups per building and grid, broadcasts with read receipts), ``campaigns``
(templates, forms, tasks, self-reports, key groups, enterprises, help requests, supplies),
``command`` (four-level roll-ups, daily reports, the command dashboard)."""
