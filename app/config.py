"""Default configuration; ``instance/config.py`` and the environment override it."""

from datetime import timedelta


class Defaults:
    SQLALCHEMY_DATABASE_URI = None  # filled in by create_app: DATABASE_URL or instance/spreekuur.db
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A working day at the desk must never be cut short by a login time-out.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=14)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Cookies only over https: unless set, True when PUBLIC_URL is an https address.
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_SECURE = None
    WTF_CSRF_TIME_LIMIT = None  # no time limits on forms (WCAG 2.2.1)
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    # The languages residents can choose, each named in itself (no flags). Staff screens
    # offer only STAFF_LANGUAGES.
    LANGUAGES = {
        "nl": "Nederlands",
        "en": "English",
        "ar": "العربية",
        "fa": "دری / فارسی",
        "tr": "Türkçe",
        "pl": "Polski",
        "uk": "Українська",
        "ti": "ትግርኛ",
    }
    STAFF_LANGUAGES = ("nl", "en")
    TIMEZONE = "Europe/Amsterdam"
    LANGUAGE_COOKIE = "spreekuur_lang"
    NETWORK_NAME = "Spreekuur"
    # The address residents use (e.g. https://spreekuur.example.org). Every link in a message
    # is built on it, never on the Host header of a request. Required in production; when
    # testing or debugging it defaults to the development server.
    PUBLIC_URL = None
    # The host names the app answers to; a request for another gets 400. Unless set, in
    # production the host of PUBLIC_URL (and localhost and 127.0.0.1 for a loopback address).
    TRUSTED_HOSTS = None
    # The number of proxies in front of the app (1 behind one TLS-terminating proxy): the
    # client's address and scheme are taken from the X-Forwarded-For and X-Forwarded-Proto
    # headers they add. 0: the app faces the clients itself.
    PROXY_FIX_X_FOR = 0
    # Personal fields of a booking are erased this many days after the appointment.
    BOOKING_RETENTION_DAYS = 30
    # Personal data of a referral (and the receiver's notes) is erased this many days after
    # it was closed (done, not reached, declined, signposted).
    REFERRAL_RETENTION_DAYS = 90
    # A warm handover that is never closed would keep the resident's data for ever: its
    # personal data (and the receiver's notes) is erased anyway this many days after its last
    # change (written, a new status, a note, or the appointment or last course session made
    # from it). The status stays as the receiver left it.
    REFERRAL_OPEN_RETENTION_DAYS = 180
    # Personal fields of a course sign-up (made by the resident or at the desk) are erased
    # this many days after the course's last session.
    COURSE_SIGNUP_RETENTION_DAYS = 30
    # Waiting list: a freed seat is held for the first waiting resident this many hours,
    # counted only in the daytime (an offer made at 19:00 runs until 11:00 the next day).
    WAITING_LIST_HOLD_HOURS = 4
    WAITING_LIST_DAY_START = "08:00"
    WAITING_LIST_DAY_END = "20:00"
    # A resident's place on a waiting list (and their name and phone number or e-mail
    # address) is erased this many days after they joined; at once when they leave it,
    # take a time, or let an offered time pass.
    WAITING_LIST_RETENTION_DAYS = 60
    # Audit-log entries hold no resident data, but are not kept for ever either (storage
    # limitation): they are deleted this many days after they were written.
    AUDIT_RETENTION_DAYS = 730
    # Calendar feeds: the window of dates they cover, how long cancelled events stay in them
    # (so that subscribed calendars remove them) and how often clients are asked to poll.
    FEED_DAYS_BACK = 30
    FEED_DAYS_AHEAD = 365
    FEED_KEEP_CANCELLED_DAYS = 30
    FEED_REFRESH_MINUTES = 60
    # The index of coming occurrences covers yesterday up to this many days ahead, or up to
    # the longest booking horizon of any series when that is further (plus one day): four
    # weeks of the hours list and a week more.
    OCCURRENCE_INDEX_DAYS = 35
    # The hours list shows this many sessions, then a link to the later ones; the start page
    # the first START_PAGE_SIZE of the coming days.
    LIST_PAGE_SIZE = 25
    START_PAGE_SIZE = 10
    # Up to this many towns the start page and the filter offer them as buttons and a list;
    # a larger network asks residents to type (or choose from an index by letter) first.
    PLACES_AS_BUTTONS = 24
    # Each worker answers the same public page (start page, lists, a series' page) from
    # memory for this many seconds after rendering it; 0 switches this off (app/web/page_cache).
    PUBLIC_PAGE_CACHE_SECONDS = 10
    # Rate limits (Flask-Limiter), so that guessing a password or an appointment code and
    # booking by the dozen are no longer free. Only failed logins and failed look-ups count,
    # and only appointments made: normal use at a shared desk computer never reaches them.
    # Over a limit the form answers 429 and says when to try again.
    RATELIMIT_ENABLED = True
    # Where the counts live, shared by every worker: None means this database
    # (spreekuur+db://), or memory for an in-memory SQLite database. Or a redis:// URL.
    RATELIMIT_STORAGE_URI = None
    RATELIMIT_STRATEGY = "fixed-window"
    # Test every limit of a form, so that the message tells the longest wait.
    RATELIMIT_FAIL_ON_FIRST_BREACH = False
    # Staff login: wrong passwords per account (the e-mail address) and per client address.
    RATELIMIT_LOGIN_ACCOUNT = "10 per 15 minutes"
    RATELIMIT_LOGIN_ADDRESS = "30 per 15 minutes"
    # Finding an appointment: failed look-ups per code and per client address.
    RATELIMIT_LOOKUP_CODE = "10 per 10 minutes"
    RATELIMIT_LOOKUP_ADDRESS = "30 per 10 minutes"
    # Public booking form: appointments made per client address.
    RATELIMIT_BOOKING_ADDRESS = "20 per hour"
    # The JSON API (/api/v1): requests per client address.
    RATELIMIT_API_ADDRESS = "120 per minute"
    # Joining a waiting list: places taken per client address.
    RATELIMIT_WAITING_LIST_ADDRESS = "10 per hour"
    # Outgoing mail (booking confirmations). Messages wait in the outbox until sent.
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "Spreekuur <no-reply@localhost>"
    MAIL_TIMEOUT = 10  # seconds to wait for the mail server before trying again later
    # After a response that queued a message, a background thread of the worker sends it;
    # cron or a systemd timer (`flask send-messages`) sends what is left, and the reminders.
    OUTBOX_SEND_AFTER_RESPONSE = True
    # Reminders: this many hours before an appointment or a course session, residents get a
    # short reminder (by e-mail when they gave an address, otherwise by SMS when they gave a
    # mobile number and an SMS provider is set; the others are on the desk's call list).
    # The same for the whole network; 24 means "the day before, at the same time".
    REMINDER_HOURS_BEFORE = 24
    # SMS: the provider's name in app.services.sms.PROVIDERS ("cm": CM.com's Business
    # Messaging API), or None for no SMS at all (residents with only a phone number are then
    # on the desk's "call the day before" list).
    SMS_PROVIDER = None
    SMS_BASE_URL = "https://gw.cmtelecom.com"
    # The provider's secret (CM.com: the product token). From the environment
    # (SPREEKUUR_SMS_PRODUCT_TOKEN) or instance/config.py; never in the repository.
    SMS_PRODUCT_TOKEN = None
    # The sender residents see: at most 11 letters and digits, or a phone number.
    SMS_SENDER = "Spreekuur"
    SMS_TIMEOUT = 10  # seconds to wait for the provider before trying again later
    # Numbers written without a country code are read as numbers of this country.
    SMS_DEFAULT_REGION = "NL"
