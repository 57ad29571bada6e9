"""The GitHub REST client: pull requests, workflow dispatches and commit statuses."""
