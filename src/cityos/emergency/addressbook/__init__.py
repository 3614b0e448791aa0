"""emergency.addressbook."""
