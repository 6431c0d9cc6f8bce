# Names vulture cannot see used: called by frameworks (pydantic validators, http.server and
# prometheus-client hooks, signal handlers' signatures), not by our code.
# Run: vulture monitor tests bench .vulture-allow.py --min-confidence 60 --exclude "*/.venv*"
_.model_config  # pydantic
_._slug  # pydantic field validators
_._tz
_._date_selector
_._regex
_._selectors
_._interval
_._url
_._css
_._has_alias
_._unique
_._languages
_._jurisdiction
_._language_tables
_.row_factory  # sqlite3
_.msg  # logging.LogRecord
_.daemon_threads  # socketserver
_.server_version  # http.server
_.protocol_version
_.disable_nagle_algorithm
_.log_message
_.handle_error
_.do_HEAD
_.do_POST
_.do_CONNECT
_.collect  # prometheus-client collectors
frame  # signal handlers' signature
tb  # __exit__'s signature
request  # socketserver.handle_error's signature
client_address
_._tags_regex
_._email_addresses
_._route_tz
_._places
_._routes_reach_channels
_.handle_DATA  # aiosmtpd handler hook
_.binary_location  # selenium's Options
