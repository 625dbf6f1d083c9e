# Utilities publish restoration times on the 24-hour clock; "7:04 a.m." is ambiguous on a phone.
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "D j M, H:i"
DATETIME_FORMAT = "j F Y, H:i"
# One date style on every page: "Sat 28 Nov 2026", "Sat 28 Nov, 09:00".
DATE_FORMAT = "D j M Y"
