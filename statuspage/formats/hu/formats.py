# Hungarian: one date style on every page, "november 28., szombat" (the year when
# the whole date stands alone); 24-hour clock.
TIME_FORMAT = "H:i"
DATE_FORMAT = "Y. F j., l"
SHORT_DATETIME_FORMAT = "F j., l, H:i"
DATETIME_FORMAT = "Y. F j., H:i"
