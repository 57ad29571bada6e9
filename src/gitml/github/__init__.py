"""The GitHub REST client (pull requests for promotions, rollbacks and retraining)."""
