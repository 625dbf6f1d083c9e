# Hebrew: 24-hour clock; a date not today reads "שלישי, 24 בנובמבר, 16:30".
# Anything not set here falls back to Django's own Hebrew formats.
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "l, j בF, H:i"
DATETIME_FORMAT = "j בF Y, H:i"
DATE_FORMAT = "l, j בF Y"
