"""One screen per file: leaderboard, marker detail, studies, curation form, scheme, help."""
