"""errors.py - The emulator's answers other than success: the error codes
of IoTDA, RFS, IAM and the API gateway, and the exception that carries one.
"""



# Error codes. Documented ones come from docs/cloud-api.md; the emulator-owned
# ones are listed as [derived] in docs/emulator.md.
IOTDA_BAD_PARAM = "IOTDA.000006"
IOTDA_BAD_BODY = "IOTDA.000008"
IOTDA_BAD_LIMIT = "IOTDA.000017"
IOTDA_BAD_MARKER = "IOTDA.000018"
IOTDA_FORBIDDEN = "IOTDA.EMU403"
IOTDA_NOT_FOUND = "IOTDA.EMU404"
IOTDA_THROTTLED = "IOTDA.021101"
IOTDA_INTERNAL = "IOTDA.000020"
RF_BAD_PARAM = "RF.10011001"
RF_ID_MISMATCH = "RF.10011002"
RF_BAD_MARKER = "RF.10011003"
RF_FORBIDDEN = "RF.10013001"
RF_REFUSED = "RF.10013002"  # a hook's default or a template's last version
RF_NO_PROVIDER = "RF.10014001"
RF_NO_VERSION = "RF.10014002"
RF_CONFLICT = "RF.10019001"
RF_THROTTLED = "RF.10012001"
RF_INTERNAL = "RF.10010001"
GW_AUTH = "APIGW.0301"
GW_DATE = "APIGW.0303"
GW_PROJECT = "APIGW.0302"
GW_NOT_FOUND = "APIGW.0101"
GW_THROTTLED = "APIGW.0308"


class ApiError(Exception):
    """An answer other than success, raised anywhere in request handling."""

    def __init__(self, status, body, headers=()):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = list(headers)


def iotda_error(status, code, msg):
    return ApiError(status, {"error_code": code, "error_msg": msg})


def rfs_error(status, code, msg):
    return ApiError(status, {"error_code": code, "error_msg": msg,
                             "encoded_authorization_message": "",
                             "details": []})


def iam_error(status, title, msg):
    return ApiError(status, {"error": {"code": status, "title": title,
                                       "message": msg}})


def service_of(op):
    return op.split(".")[0] if op != "other" else "gateway"


def service_error(service, status, code, msg):
    if service == "iotda":
        return iotda_error(status, code, msg)
    if service == "rfs":
        return rfs_error(status, code, msg)
    if service == "iam":
        return iam_error(status, "Error", msg)
    return ApiError(status, {"error_code": code, "error_msg": msg})


DEFAULT_CODES = {
    "iotda": {400: IOTDA_BAD_PARAM, 403: IOTDA_FORBIDDEN,
              404: IOTDA_NOT_FOUND, 500: IOTDA_INTERNAL},
    "rfs": {400: RF_BAD_PARAM, 403: RF_FORBIDDEN, 404: RF_NO_PROVIDER,
            409: RF_CONFLICT, 429: RF_THROTTLED, 500: RF_INTERNAL},
}


def default_code(service, status):
    table = DEFAULT_CODES.get(service, {})
    if status in table:
        return table[status]
    if service == "iotda":
        return "IOTDA.EMU%03d" % status
    if service == "rfs":
        return "RF.1001%04d" % status
    return "APIGW.0%03d" % (status % 1000)
