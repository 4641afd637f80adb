"""One module per `pmed` command; each exports `command`."""
