"""Calendar feeds: the .ics addresses calendar clients poll, and the portal pages to manage
one's secret feed links."""
