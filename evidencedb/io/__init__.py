"""Files in and out: extraction sheets, citation files, exports and the bulk writes they share."""
