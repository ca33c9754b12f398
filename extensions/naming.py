"""Names of the generated service: the slug, the Python package, catalog references.

Plain functions, so the questionnaire's rules can be unit-tested without Copier.
Each ``*_error`` function returns a one-line message naming every rule the value
breaks, or ``None`` when the name is acceptable. The patterns are written in the
common subset of Python's ``re`` and ECMA-262, because scripts/answers_schema.py
exports them unchanged into the JSON Schema a portal validates with.
"""

from __future__ import annotations

import keyword
import re
import unicodedata

# Kubernetes object names, image names and Backstage entity names all accept
# this shape; 63 is the DNS label limit that the strictest of them enforces.
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
SLUG_MIN_LENGTH = 2
SLUG_MAX_LENGTH = 63

# Names the Kubernetes base and overlays make from the slug (`<slug>-migrate`,
# the namespace `<slug>-dev`, ...), with what tools append to them: kustomize's
# configMapGenerator adds "-" and a 10-character hash of the content. Every one
# must fit a DNS label, so the longest decides how long a slug may be there.
# tests/test_naming.py checks this table against the template's files.
KUBERNETES_NAME_MAX_LENGTH = 63
KUSTOMIZE_HASH_LENGTH = 11
KUBERNETES_NAME_SUFFIXES = {
    "-config": KUSTOMIZE_HASH_LENGTH,
    "-database": 0,
    "-broker": 0,
    "-migrate": 0,
    "-worker": 0,
    "-dev": 0,
}
KUBERNETES_SLUG_MAX_LENGTH = KUBERNETES_NAME_MAX_LENGTH - max(
    len(suffix) + appended for suffix, appended in KUBERNETES_NAME_SUFFIXES.items()
)

PACKAGE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")

# Python keywords and soft keywords of every supported version (3.12 added `type`).
KEYWORDS = frozenset(keyword.kwlist) | {"_", "case", "match", "type"}

# Top-level modules of the standard library in Python 3.11, 3.12 and 3.13 (their
# sys.stdlib_module_names, joined; tests/test_naming.py checks each version's).
# Frozen here so the rule, and the schema made from it, do not depend on the
# Python that happens to run Copier.
STDLIB_MODULES = frozenset(
    """
    __future__ _abc _aix_support _android_support _ast _asyncio _bisect _blake2
    _bootsubprocess _bz2 _codecs _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp
    _codecs_kr _codecs_tw _collections _collections_abc _colorize _compat_pickle
    _compression _contextvars _crypt _csv _ctypes _curses _curses_panel _datetime _dbm
    _decimal _elementtree _frozen_importlib _frozen_importlib_external _functools _gdbm
    _hashlib _heapq _imp _interpchannels _interpqueues _interpreters _io _ios_support _json
    _locale _lsprof _lzma _markupbase _md5 _msi _multibytecodec _multiprocessing _opcode
    _opcode_metadata _operator _osx_support _overlapped _pickle _posixshmem
    _posixsubprocess _py_abc _pydatetime _pydecimal _pyio _pylong _pyrepl _queue _random
    _scproxy _sha1 _sha2 _sha256 _sha3 _sha512 _signal _sitebuiltins _socket _sqlite3 _sre
    _ssl _stat _statistics _string _strptime _struct _suggestions _symtable _sysconfig
    _thread _threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings
    _weakref _weakrefset _winapi _wmi _zoneinfo abc aifc antigravity argparse array ast
    asynchat asyncio asyncore atexit audioop base64 bdb binascii bisect builtins bz2
    calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys compileall
    concurrent configparser contextlib contextvars copy copyreg cprofile crypt csv ctypes
    curses dataclasses datetime dbm decimal difflib dis distutils doctest email encodings
    ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib
    functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq
    hmac html http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools json
    keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math mimetypes
    mmap modulefinder msilib msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path
    numbers opcode operator optparse os ossaudiodev pathlib pdb pickle pickletools pipes
    pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd
    py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline reprlib
    resource rlcompleter runpy sched secrets select selectors shelve shlex shutil signal
    site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants
    sre_parse ssl stat statistics string stringprep struct subprocess sunau symtable sys
    sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading
    time timeit tkinter token tokenize tomllib trace traceback tracemalloc tty turtle
    turtledemo types typing unicodedata unittest urllib uu uuid venv warnings wave weakref
    webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp zipfile zipimport zlib
    zoneinfo
    """.split()  # noqa: SIM905 - a word list reads better than 318 lines of strings
)

# Top-level modules the generated project depends on, or that its layout
# already uses: a package with one of these names would shadow it on import.
DEPENDENCY_MODULES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "arq",
        "asgi_lifespan",
        "asyncmy",
        "asyncpg",
        "celery",
        "click",
        "dramatiq",
        "fastapi",
        "greenlet",
        "gunicorn",
        "h11",
        "httptools",
        "httpx",
        "kombu",
        "locust",
        "mako",
        "mangum",
        "migrations",
        "mypy",
        "opentelemetry",
        "pika",
        "prometheus_client",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "redis",
        "ruff",
        "sqlalchemy",
        "src",
        "starlette",
        "structlog",
        "tests",
        "typing_extensions",
        "uvicorn",
        "uvicorn_worker",
        "uvloop",
        "watchfiles",
        "websockets",
        "yaml",
    }
)
# Kept under its old name for code that imported it.
RESERVED_MODULES = DEPENDENCY_MODULES
# Every name a package of the service may not take, whatever the reason.
RESERVED_PACKAGE_NAMES = KEYWORDS | STDLIB_MODULES | DEPENDENCY_MODULES

# A Backstage entity reference, `[kind:][namespace/]name`, with the catalog's own
# rules for each part: a kind is letters and digits, a namespace a DNS label,
# a name up to 63 letters, digits, '-', '_' and '.', starting and ending with a
# letter or digit. No named groups, no flags: a JSON Schema pattern is ECMA-262.
ENTITY_PART_MAX_LENGTH = 63
_KIND = r"[A-Za-z][A-Za-z0-9]*"
_NAMESPACE = r"(?=[a-z0-9-]{1,63}/)[a-z0-9]+(?:-+[a-z0-9]+)*"
_NAME = r"(?=[-A-Za-z0-9_.]{1,63}$)[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


def entity_ref_pattern(kinds: tuple[str, ...] | None = None) -> str:
    """The pattern of a reference to an entity of one of ``kinds`` (any kind when None)."""
    kind = _KIND if kinds is None else "(?:" + "|".join(map(_any_case, kinds)) + ")"
    return f"^(?:{kind}:)?(?:{_NAMESPACE}/)?{_NAME}$"


ENTITY_REF_PATTERN = re.compile(entity_ref_pattern())

# A default slug or package name that would otherwise start with a digit, be too
# short or collide with a module gets one of these.
SLUG_PREFIX = "svc-"
PACKAGE_SUFFIX = "_service"

# Latin letters that Unicode does not decompose into a base letter and accents.
_LATIN_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "\u0131": "i",  # dotless i
    }
)
# Apostrophes join what they separate: "Joe's" is "joes", not "joe-s".
_APOSTROPHES = re.compile("['\u2019\u02bc`\u00b4]")


def _ascii_words(text: str) -> str:
    """``text`` transliterated to lowercase ASCII words joined by '-'."""
    text = _APOSTROPHES.sub("", text.translate(_LATIN_LETTERS))
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_text = letters.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def slugify(name: str, max_length: int = KUBERNETES_SLUG_MAX_LENGTH) -> str:
    """A valid slug for any name with a letter or digit: ``"Joe's Café API"`` -> ``"joes-cafe-api"``.

    Latin letters lose their accents; a name with no Latin letter or digit at all
    (``"日本"``) falls back to the Punycode of its letters, which is ASCII and keeps
    the name recoverable. A slug that would start with a digit or be one character
    long gets the ``svc-`` prefix. Truncated to what fits every deploy target.
    """
    slug = _ascii_words(name)
    if not slug:
        letters = "".join(c for c in name if c.isalnum())
        slug = _ascii_words(letters.encode("punycode").decode()) if letters else ""
    if slug and (not slug[0].isalpha() or len(slug) < SLUG_MIN_LENGTH):
        slug = SLUG_PREFIX + slug
    return re.sub("-+", "-", slug)[:max_length].rstrip("-")


def package_name_for(slug: str) -> str:
    """The default import name for a slug: ``"orders-api"`` -> ``"orders_api"``.

    Always a valid package name: one that is a keyword or would shadow a module
    (``"json"``) gets the ``_service`` suffix.
    """
    name = re.sub("-+", "_", _ascii_words(slug)) or "service"
    if not name[0].isalpha():
        name = SLUG_PREFIX.replace("-", "_") + name
    if name in RESERVED_PACKAGE_NAMES:
        name += PACKAGE_SUFFIX
    return name


def _disallowed(value: str, allowed: str) -> str:
    found = sorted({c for c in value if not re.match(allowed, c)})
    return ", ".join(repr(c) for c in found)


def slug_error(slug: str, max_length: int = SLUG_MAX_LENGTH) -> str | None:
    """Why ``slug`` cannot name images, Kubernetes objects and catalog entities."""
    if not slug:
        return "the slug is empty: use lowercase letters, digits and '-', e.g. orders-api"
    reasons = []
    if bad := _disallowed(slug, "[a-z0-9-]"):
        reasons.append(f"{bad} not allowed (only lowercase letters, digits and '-')")
    if not slug[0].isascii() or not slug[0].isalpha() or not slug[0].islower():
        reasons.append("it must start with a lowercase letter")
    if not re.fullmatch("[a-z0-9]", slug[-1]):
        reasons.append("it must end with a letter or digit")
    if "--" in slug:
        reasons.append("'--' is not allowed")
    if len(slug) < SLUG_MIN_LENGTH:
        reasons.append(f"it must have at least {SLUG_MIN_LENGTH} characters")
    if len(slug) > max_length:
        reasons.append(f"it is too long: {len(slug)} characters, at most {max_length}")
    if not reasons:
        return None
    return f"{slug!r} is not a valid slug: " + "; ".join(reasons)


def package_name_error(name: str) -> str | None:
    """Why ``name`` cannot be the service's top-level Python package."""
    if not name:
        return "the package name is empty: use lowercase letters, digits and '_', e.g. orders_api"
    if not PACKAGE_PATTERN.match(name):
        reasons = []
        if bad := _disallowed(name, "[a-z0-9_]"):
            reasons.append(f"{bad} not allowed (only lowercase letters, digits and '_')")
        if name[0].isdigit():
            reasons.append("it must not start with a digit")
        return f"{name!r} is not a valid package name: " + "; ".join(reasons)
    if name in KEYWORDS:
        return f"{name!r} is a Python keyword and cannot be imported as a package"
    if name in STDLIB_MODULES:
        return f"{name!r} would shadow the standard library module of the same name"
    if name in DEPENDENCY_MODULES:
        return f"{name!r} would shadow a module the generated service depends on"
    return None


def entity_ref_error(ref: str, kinds: tuple[str, ...]) -> str | None:
    """Why ``ref`` cannot name a catalog entity of one of ``kinds`` (lowercase)."""
    example = f"{kinds[0]}:payments"
    kind, _, rest = ref.rpartition(":") if ":" in ref else ("", "", ref)
    namespace, _, name = rest.rpartition("/")
    reasons = []
    if ":" in ref and not re.fullmatch(_KIND, kind):
        reasons.append(f"the kind {kind!r} must be letters and digits, starting with a letter")
    elif kind and kind.lower() not in kinds:
        return f"{ref!r} must name a {' or '.join(kinds)} entity, e.g. {example}"
    if "/" in rest and not re.fullmatch(r"[a-z0-9]+(?:-+[a-z0-9]+)*", namespace):
        reasons.append(
            f"the namespace {namespace!r} must be lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    if not re.fullmatch(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?", name):
        reasons.append(
            f"the name {name!r} must be letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    if any(len(part) > ENTITY_PART_MAX_LENGTH for part in (namespace, name)):
        reasons.append(
            f"too long: a catalog name or namespace has at most {ENTITY_PART_MAX_LENGTH} characters"
        )
    if not reasons:
        return None
    return (
        f"{ref!r} is not a catalog entity reference ([kind:][namespace/]name): "
        + "; ".join(reasons)
        + f"; e.g. {example}"
    )
