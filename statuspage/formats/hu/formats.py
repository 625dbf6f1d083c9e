# Hungarian: one date style on every page, numeric as Hungarians write it
# ("2026.11.28.", "2026.11.28. 09:00"); 24-hour clock.
TIME_FORMAT = "H:i"
DATE_FORMAT = "Y.m.d."
SHORT_DATETIME_FORMAT = "Y.m.d. H:i"
DATETIME_FORMAT = "Y.m.d. H:i"
