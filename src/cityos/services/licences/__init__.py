"""电子证照: credential kinds, signed credentials, holders' wallets, verification and consent."""
