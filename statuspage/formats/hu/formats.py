# Hungarian: 24-hour clock; a date not today reads "november 24., kedd 16:30".
# Anything not set here falls back to Django's own Hungarian formats.
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "F j., l H:i"
DATETIME_FORMAT = "Y. F j. H:i"
