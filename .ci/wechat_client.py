"""The WeChat official account channel as WeChat itself would use it, driven by wechatpy.

wechatpy (PyPI) signs and encrypts every message exactly as WeChat's servers do, and parses
and decrypts the server's replies. A fake of WeChat's API (token, template messages, media)
runs on a loopback port; the server pushes progress to it.

    python wechat_client.py SERVER_URL FAKE_API_PORT DISPATCHER_TOKEN HANDLER_TOKEN

The server runs with MASHANGBAN_WECHAT_TOKEN / _APP_ID / _AES_KEY / _APP_SECRET /
_TEMPLATE_ID as below and MASHANGBAN_WECHAT_API_BASE=http://127.0.0.1:FAKE_API_PORT.
"""

import json
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature

TOKEN = "mbcitoken"
APP_ID = "wx5f0c1a2b3c4d5e6f"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
ACCOUNT = "gh_ci_account"

server, fake_port, dispatcher, handler = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
pushed = []
fetched = []


def png():
    """A 2×2 picture, written out by hand (no imaging library needed)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class FakeWeChat(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, kind="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/cgi-bin/token":
            assert q["appid"] == [APP_ID] and q["secret"] == ["ci-app-secret"], q
            self.answer({"access_token": "ci-access-token", "expires_in": 7200})
        elif url.path == "/cgi-bin/media/get":
            assert q["access_token"] == ["ci-access-token"], q
            fetched.append(q["media_id"][0])
            self.answer(png(), "image/png")
        else:
            self.answer({"errcode": 404, "errmsg": "no such API"})

    def do_POST(self):
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if url.path == "/cgi-bin/message/template/send":
            assert parse_qs(url.query)["access_token"] == ["ci-access-token"]
            pushed.append(body)
            self.answer({"errcode": 0, "errmsg": "ok", "msgid": len(pushed)})
        else:
            self.answer({"errcode": 404, "errmsg": "no such API"})


fake = ThreadingHTTPServer(("127.0.0.1", fake_port), FakeWeChat)
threading.Thread(target=fake.serve_forever, daemon=True).start()

msg_id = [int(time.time()) * 1000]


def incoming(openid, kind, inner, event=False):
    """A message as WeChat posts it (the XML of its documentation)."""
    msg_id[0] += 1
    tail = "" if event else f"<MsgId>{msg_id[0]}</MsgId>"
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
            f"{inner}{tail}</xml>")


def text(openid, content):
    return incoming(openid, "text", f"<Content><![CDATA[{content}]]></Content>")


def signed(timestamp, nonce):
    s = WeChatSigner()
    s.add_data(TOKEN, timestamp, nonce)
    return s.signature


def plain(xml):
    """Posts in plain mode; the reply as wechatpy parses it."""
    ts, nonce = str(int(time.time())), "1234567"
    r = requests.post(f"{server}/channels/wechat", data=xml.encode(), timeout=10,
                      params={"signature": signed(ts, nonce), "timestamp": ts, "nonce": nonce})
    assert r.status_code == 200, (r.status_code, r.text)
    return parse_message(r.text).content


def safe(xml):
    """Posts in safe mode, encrypted by wechatpy; the reply decrypted and checked by it."""
    ts, nonce = str(int(time.time())), "7654321"
    envelope = crypto.encrypt_message(xml, nonce, ts)
    env = xmltodict.parse(envelope)["xml"]
    r = requests.post(f"{server}/channels/wechat", data=envelope.encode(), timeout=10,
                      params={"signature": signed(ts, nonce), "timestamp": ts, "nonce": nonce,
                              "encrypt_type": "aes", "msg_signature": env["MsgSignature"]})
    assert r.status_code == 200, (r.status_code, r.text)
    reply = xmltodict.parse(r.text)["xml"]
    inner = crypto.decrypt_message(r.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    return parse_message(inner).content


def staff(token, method, path, body=None):
    r = requests.request(method, f"{server}{path}", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, (path, r.status_code, r.text)
    return r.json() if r.text else None


# WeChat's check of the address.
ts, nonce = str(int(time.time())), "99"
echo = requests.get(f"{server}/channels/wechat", timeout=10, params={
    "signature": signed(ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "ci-echo-1"})
assert echo.status_code == 200 and echo.text == "ci-echo-1", echo.text
check_signature(TOKEN, signed(ts, nonce), ts, nonce)
print("address check: the echo came back")

# Plain mode: follow, describe, photo, place, confirm.
openid = "oCI_plain_follower_0001"
said = plain(incoming(openid, "event", "<Event><![CDATA[subscribe]]></Event>", event=True))
assert said.startswith("您好，这里是12345"), said
said = plain(text(openid, "东关大街小区门口的路灯坏了一个月，晚上很黑"))
assert said.startswith("请告诉我们问题发生的地点"), said
said = plain(incoming(openid, "image",
                      "<PicUrl><![CDATA[http://mmbiz.example/p]]></PicUrl><MediaId><![CDATA[ci-media-1]]></MediaId>"))
said = plain(incoming(openid, "location",
                      "<Location_X>36.6171</Location_X><Location_Y>101.7782</Location_Y>"
                      "<Scale>15</Scale><Label><![CDATA[西宁市城东区东关大街]]></Label>"))
assert "地点：西宁市城东区东关大街" in said and "图片：1张" in said, said
said = plain(text(openid, "1"))
assert said.startswith("已受理，编号 "), said
number = said.split("编号 ")[1].split("。")[0]
print(f"plain mode: {number} taken ({said})")

# Safe mode: a voice message's recognition, a place, confirm.
other = "oCI_safe_follower_00002"
said = safe(incoming(other, "voice", "<MediaId><![CDATA[v]]></MediaId><Format><![CDATA[amr]]></Format>"
                                      "<Recognition><![CDATA[楼下餐馆油烟太大了。]]></Recognition>"))
assert said.startswith("请告诉我们问题发生的地点"), said
said = safe(text(other, "城西区胜利路12号"))
assert "问题：楼下餐馆油烟太大了" in said, said
said = safe(text(other, "确认"))
assert said.startswith("已受理，编号 "), said
print(f"safe mode: {said.split('编号 ')[1].split('。')[0]} taken")

# Refusals: a wrong signature, a replayed message.
ts = str(int(time.time()))
bad = requests.post(f"{server}/channels/wechat", data=text(openid, "伪造的消息内容很长").encode(), timeout=10,
                    params={"signature": "0" * 40, "timestamp": ts, "nonce": "1"})
assert bad.status_code == 403, bad.status_code
try:
    crypto.decrypt_message(crypto.encrypt_message("<xml/>", "1", ts), "0" * 40, ts, "1")
    raise AssertionError("wechatpy took a wrong signature")
except InvalidSignatureException:
    pass
again = text(openid, "进度")
first = plain(again)
assert number in first, first
ts, nonce = str(int(time.time())), "1234567"
replay = requests.post(f"{server}/channels/wechat", data=again.encode(), timeout=10,
                       params={"signature": signed(ts, nonce), "timestamp": ts, "nonce": nonce})
assert replay.status_code == 200 and replay.text == "success", replay.text
print("refusals: a wrong signature 403, a replay 'success' with nothing done")

# The hotline dispatches, the unit answers, the hotline approves: each pushed back.
found = staff(dispatcher, "GET", "/api/v1/tickets?channel=wechat&limit=10")["items"]
ticket = next(t for t in found if t["number"] == number)
units = staff(dispatcher, "GET", "/api/v1/units")["items"]
lead = next(u for u in units if u["code"] == "GOV-630102001")
tid = ticket["id"]
staff(dispatcher, "POST", f"/api/v1/tickets/{tid}/dispatch", {"lead_unit_id": lead["id"], "tier": 3})
staff(handler, "POST", f"/api/v1/tickets/{tid}/sign", {})
staff(handler, "POST", f"/api/v1/tickets/{tid}/reply", {"content": "路灯已于今日修复。"})
staff(dispatcher, "POST", f"/api/v1/tickets/{tid}/approve-reply", {})
deadline = time.time() + 60
while time.time() < deadline and (len([p for p in pushed if p["touser"] == openid]) < 2 or not fetched):
    time.sleep(0.5)
mine = [p for p in pushed if p["touser"] == openid]
assert len(mine) == 2, pushed
assert mine[0]["data"]["first"]["value"] == "您反映的问题已转交办理", mine[0]
assert mine[1]["data"]["keyword1"]["value"] == number
assert mine[1]["data"]["remark"]["value"].startswith("路灯已于今日修复。"), mine[1]
assert "/public/track?number=" in mine[1]["url"]
assert fetched == ["ci-media-1"], fetched
files = staff(dispatcher, "GET", f"/api/v1/tickets/{tid}/attachments")
assert len(files) == 1, files
print("pushed back: dispatch and answer as template messages; the photo fetched and kept")

said = plain(text(openid, "1"))
assert said.startswith("感谢您的评价"), said
assert staff(dispatcher, "GET", f"/api/v1/tickets/{tid}")["state"] == "closed"
print("rated by replying 1: the request is closed")
fake.shutdown()
print("the WeChat client: all checks passed")
