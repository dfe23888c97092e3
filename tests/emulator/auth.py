"""auth.py - The gateway's checks: AK/SK signatures (SDK-HMAC-SHA256
and V11), IAM tokens, and the Instance-Id and X-Project-Id headers.
"""

import time

import signer
from errors import ApiError, GW_AUTH, GW_DATE, GW_PROJECT


DATE_WINDOW = 15 * 60       # allowed X-Sdk-Date skew


def hmacless_equal(a, b):
    """Constant-time string compare (passwords)."""
    import hmac
    return hmac.compare_digest(a.encode(), b.encode())


class Auth:
    """The Handler's checks of a request's credentials."""

    def gateway_error(self, status, code, msg):
        with self.server.cloud.lock:
            if status == 401:
                self.server.cloud.stats["auth_failures"] += 1
        return ApiError(status, {"error_code": code, "error_msg": msg,
                                 "request_id": self.request_id})

    def authenticate(self, raw_path, pairs, body, entry):
        cloud = self.server.cloud
        token = self.headers.get("X-Auth-Token")
        authz = self.headers.get("Authorization")
        if token is not None:
            with cloud.lock:
                ok = cloud.token_valid(token.strip())
            if not ok:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: token invalid or expired")
            entry["auth"] = "token"
        elif authz is not None:
            auth = signer.parse_authorization(authz)
            if auth is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: malformed Authorization")
            date = self.headers.get("X-Sdk-Date")
            when = signer.parse_date(date.strip()) if date else None
            if when is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: missing or bad X-Sdk-Date")
            if abs(time.time() - when) > DATE_WINDOW:
                raise self.gateway_error(
                    401, GW_DATE, "Incorrect IAM authentication "
                    "information: X-Sdk-Date is more than 15 minutes "
                    "away from the server time")
            sk = cloud.keys.get(auth["ak"])
            if sk is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: unknown access key")
            if auth["algo"] == signer.V11_ALGO:
                parts = (auth["info"] or "").split("/")
                if len(parts) != 3 or parts[0] != date.strip()[:8] or \
                        parts[1] != cloud.region or not parts[2]:
                    raise self.gateway_error(
                        401, GW_AUTH, "Incorrect IAM authentication "
                        "information: bad credential scope")
            # The SDKs sign every header they send; a gateway that
            # routes on Instance-Id must not trust an unsigned one.
            if self.headers.get("Instance-Id") is not None and \
                    "instance-id" not in auth["signed"]:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: Instance-Id is not signed")
            headers = list(self.headers.items())
            if not signer.verify(self.command, raw_path, pairs, headers,
                                 body, auth, sk):
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: verify aksk signature fail")
            entry["auth"] = "v11" if auth["algo"] == signer.V11_ALGO \
                else "sdk"
        else:
            raise self.gateway_error(
                401, GW_AUTH, "Incorrect IAM authentication information: "
                "no token and no signature")
        iid = self.headers.get("Instance-Id")
        if iid is not None:
            entry["instance_id"] = iid.strip()
        xpid = self.headers.get("X-Project-Id")
        if xpid is not None and xpid.strip() != cloud.project_id:
            raise self.gateway_error(
                403, GW_PROJECT, "X-Project-Id does not match the "
                "project of the credentials")
