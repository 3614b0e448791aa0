"""智慧社区: residents (C), the property company and merchants (B) and the street and community
office (G) in one community. Sub-packages keep the usual file roles: ``access`` (出入码, visitors,
gates), ``property`` (bills, parking, lockers, garbage sorting, facility devices), ``commerce``
(neighbourhood services and orders), ``governance`` (notices, surveys, owners' votes, help,
grid tasks), ``dashboard`` (一屏观社区 and the resident's home page)."""
