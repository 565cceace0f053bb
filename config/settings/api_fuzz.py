"""Settings for the Schemathesis run of ``.ci/schemathesis`` (never for serving people).

The development settings with the API's throttles raised: the fuzzer sends thousands of requests from one
address and one token within minutes, and a 429 on every later request would test nothing. Everything else
(authentication, permissions, limits on bodies and files) is as it is in production.
"""

from config.settings.development import *  # noqa: F403
from config.settings.development import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "token": "1000000/hour",
        "address": "1000000/minute",
    },
}
