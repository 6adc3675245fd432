"""Reports (signalements): requests of the street-issue procedure with a place."""
