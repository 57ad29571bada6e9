"""The only code that reads DVC's files or imports DVC."""
