"""The arguments and results of each service's activities: the contract between a workflow and a
service, typed so that no payload is a bare dict."""
