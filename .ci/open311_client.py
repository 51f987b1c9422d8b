"""Open311 GeoReport v2 from the outside, as a 311 app would use it: the `georeport`
client from PyPI lists the services and reads requests back, in JSON and in XML; the
request itself is posted form-encoded with `requests` (the HTTP library georeport is built
on), since no maintained client on PyPI posts (georeport is read-only; `open311` is
Python 2 only). Exits non-zero at the first answer that is not as the protocol says.

    python3 open311_client.py BASE_URL API_KEY
"""

import sys

import requests
from georeport import GeoReport

base, key = sys.argv[1], sys.argv[2]
root = f"{base}/open311/v2"


def check(cond, what):
    if not cond:
        sys.exit(f"open311 client: {what}")
    print(f"ok: {what}")


for fmt in ("json", "xml"):
    client = GeoReport(root, jurisdiction="xining.gov.cn", output_format=fmt)
    services = client.get_service_list()
    check(len(services) >= 50, f"{fmt}: {len(services)} services listed")
    lamp = [s for s in services if s["service_code"] == "010103"]
    check(lamp and lamp[0]["service_name"] == "路灯照明", f"{fmt}: 010103 is 路灯照明")
    definition = client.get_service_definition("010103")
    check(definition["service_code"] == "010103", f"{fmt}: the service definition")

# Posted as the protocol says: form-encoded, the key in the query (as the Swagger of the
# protocol has it) and the jurisdiction.
answer = requests.post(
    f"{root}/requests.json",
    params={"api_key": key, "jurisdiction_id": "xining.gov.cn"},
    data={
        "service_code": "010103",
        "description": "北关社区门口的路灯坏了一个多星期，晚上很黑",
        "lat": "36.6171",
        "long": "101.7782",
        "address_string": "城东区东关大街北关社区",
        "first_name": "芳",
        "last_name": "李",
        "phone": "13907716666",
    },
    timeout=30,
)
check(answer.status_code == 200, f"POST requests.json answered {answer.status_code}: {answer.text}")
number = answer.json()[0]["service_request_id"]
check(number, f"request {number} taken")

for fmt in ("json", "xml"):
    client = GeoReport(root, jurisdiction="xining.gov.cn", output_format=fmt)
    one = client.get_service_request(number)
    check(one["service_request_id"] == number and one["status"] == "open", f"{fmt}: {number} read back, open")
    check("13907716666" not in str(one) and "李芳" not in str(one), f"{fmt}: nothing of the citizen's shown")
    listed = client.get_service_requests(service_code="010103", status="open")
    if isinstance(listed, dict):  # one request in XML is a dict, not a list
        listed = [listed]
    check(any(r["service_request_id"] == number for r in listed), f"{fmt}: listed by service and status")

bad = requests.post(
    f"{root}/requests.xml",
    params={"api_key": "mb311_wrong", "jurisdiction_id": "xining.gov.cn"},
    data={"service_code": "010103", "description": "x", "address_string": "x"},
    timeout=30,
)
check(bad.status_code == 403 and "<errors><error><code>403</code>" in bad.text, "a wrong key: 403 in the protocol's XML")
