#!/usr/bin/env python3
"""Fill the fuzz corpora from interop vector directories (each with a manifest.json).

Usage: seed.py CORPUS_DIR VECTOR_DIR...

Each artifact goes to the corpora of the targets that decode its kind. Besides the artifacts
themselves, a small BER walker pulls out what they contain, so nested decoders get real inputs
too: the SignedData inside RAMF messages, the field set it signs, the session envelope that is the
RAMF payload, the certificates attached to SignedData, and the plaintexts the manifest lists.
Corpus files are named by the SHA-1 of their contents, as libFuzzer does, so reruns are idempotent.
"""

import hashlib
import json
import os
import sys

# control_messages selector octets (see fuzz_targets/control_messages.rs).
SELECTOR = {
    "pca": 0,
    "cargo_message_set": 1,
    "service_message": 2,
    "ccr": 3,
    "handshake_challenge": 4,
    "handshake_response": 5,
    "parcel_delivery": 6,
    "pnra": 7,
    "pnrr": 8,
    "pnr": 9,
    "node_connection_params": 10,
    "field_set": 11,
}

# Manifest kind -> targets that take it as is.
TARGETS = {
    "parcel": ["ramf", "inspect"],
    "cargo": ["ramf", "inspect"],
    "cca": ["ramf", "inspect"],
    "certificate": ["certificate", "inspect"],
    "certification_path": ["certification_path", "inspect"],
    "certificate_rotation": ["certification_path", "inspect"],
    "signed_data": ["signed_data", "inspect"],
    "detached_signature": ["signed_data", "inspect"],
    "session_envelope": ["enveloped_data", "inspect"],
}
for kind in SELECTOR:
    # A bare field set is not an artifact `inspect` recognises; the rest are.
    TARGETS.setdefault(kind, [] if kind == "field_set" else ["inspect"])

FORMAT_SIGNATURE_LENGTH = 7


def add(corpus, target, data):
    directory = os.path.join(corpus, target)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def add_kind(corpus, kind, data):
    for target in TARGETS.get(kind, []):
        add(corpus, target, data)
    if kind in SELECTOR:
        add(corpus, "control_messages", bytes([SELECTOR[kind]]) + data)


# --- A minimal BER reader: enough to walk CMS and RAMF structures. ---------------------------


class BerError(Exception):
    pass


def read_tlv(data, offset):
    """Returns (tag_octet, constructed, value_start, value_end, next_offset); value_end is None
    for indefinite lengths until resolved here by walking the children."""
    if offset >= len(data):
        raise BerError("eof")
    tag = data[offset]
    i = offset + 1
    if tag & 0x1F == 0x1F:
        while i < len(data) and data[i] & 0x80:
            i += 1
        i += 1
    if i >= len(data):
        raise BerError("eof in length")
    first = data[i]
    i += 1
    constructed = bool(tag & 0x20)
    if first == 0x80:
        if not constructed:
            raise BerError("indefinite primitive")
        start = i
        while True:
            if data[i : i + 2] == b"\x00\x00":
                return tag, True, start, i, i + 2
            i = read_tlv(data, i)[4]
    if first & 0x80:
        count = first & 0x7F
        length = int.from_bytes(data[i : i + count], "big")
        i += count
    else:
        length = first
    if i + length > len(data):
        raise BerError("truncated")
    return tag, constructed, i, i + length, i + length


def children(data, start, end):
    """The elements between start and end, each as read_tlv's tuple plus its own offset."""
    items = []
    i = start
    while i < end:
        item = read_tlv(data, i)
        items.append(item + (i,))
        i = item[4]
    return items


def octets(data, item):
    """The contents of an OCTET STRING, primitive or segmented."""
    tag, constructed, start, end = item[:4]
    if not constructed:
        return data[start:end]
    return b"".join(octets(data, child) for child in children(data, start, end))


def signed_data_parts(content_info):
    """(encapsulated content or None, [certificate DER]) of a ContentInfo with SignedData."""
    outer = read_tlv(content_info, 0)
    _oid, explicit = children(content_info, outer[2], outer[3])[:2]
    signed = read_tlv(content_info, explicit[2])
    fields = children(content_info, signed[2], signed[3])
    encap = children(content_info, fields[2][2], fields[2][3])
    content = None
    if len(encap) > 1:
        wrapped = children(content_info, encap[1][2], encap[1][3])[0]
        content = octets(content_info, wrapped)
    certificates = []
    for field in fields[3:]:
        if field[0] == 0xA0:  # [0] IMPLICIT CertificateSet
            for cert in children(content_info, field[2], field[3]):
                certificates.append(content_info[cert[5] : cert[4]])
    return content, certificates


def field_set_payload(field_set):
    """The payload [4] of a RAMF field set (DER)."""
    outer = read_tlv(field_set, 0)
    for child in children(field_set, outer[2], outer[3]):
        if child[0] in (0x84, 0xA4):
            return octets(field_set, child)
    return None


def seed_from_signed_data(corpus, content_info, ramf):
    try:
        content, certificates = signed_data_parts(content_info)
    except (BerError, IndexError, ValueError):
        return
    for certificate in certificates:
        add_kind(corpus, "certificate", certificate)
    if content is None:
        return
    if ramf:
        add_kind(corpus, "field_set", content)
        try:
            payload = field_set_payload(content)
        except (BerError, IndexError, ValueError):
            payload = None
        if payload and payload[:1] == b"\x30":
            # Cargo and CCA payloads are session envelopes (parcels' are for endpoints, but
            # relaynet-core uses the same EnvelopedData for them).
            add(corpus, "enveloped_data", payload)
    else:
        add(corpus, "signed_data", content)


def seed_directory(corpus, directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    for item in manifest["items"]:
        kind = item["kind"]
        path = os.path.join(directory, item["file"])
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        add_kind(corpus, kind, data)
        if kind in ("parcel", "cargo", "cca"):
            body = data[FORMAT_SIGNATURE_LENGTH:]
            add(corpus, "signed_data", body)
            seed_from_signed_data(corpus, body, ramf=True)
        elif kind in ("signed_data", "detached_signature"):
            seed_from_signed_data(corpus, data, ramf=False)
        elif kind == "certificate_rotation":
            add(corpus, "certification_path", data[FORMAT_SIGNATURE_LENGTH:])
        for name in item.get("trusted_certificates", []):
            cert_path = os.path.join(directory, name)
            if os.path.isfile(cert_path):
                with open(cert_path, "rb") as f:
                    add_kind(corpus, "certificate", f.read())
        plaintext = item.get("decrypt", {}).get("plaintext")
        if plaintext and os.path.isfile(os.path.join(directory, plaintext)):
            with open(os.path.join(directory, plaintext), "rb") as f:
                seed_plaintext(corpus, kind, f.read())


def seed_plaintext(corpus, kind, data):
    """A decrypted payload: parcels carry service messages, cargo carries a cargo message set
    and CCAs carry a cargo collection request."""
    inner = {"parcel": "service_message", "cargo": "cargo_message_set", "cca": "ccr"}.get(kind)
    if inner:
        add_kind(corpus, inner, data)
    if kind == "cargo":
        # The items of the set are parcels, PCAs and rotations: give them to their targets too.
        try:
            outer = read_tlv(data, 0)
            for child in children(data, outer[2], outer[3]):
                item = octets(data, child)
                add(corpus, "ramf", item)
                add(corpus, "inspect", item)
        except (BerError, IndexError, ValueError):
            pass


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus = sys.argv[1]
    for directory in sys.argv[2:]:
        seed_directory(corpus, directory)
    for target in sorted(os.listdir(corpus)):
        print(f"{target}: {len(os.listdir(os.path.join(corpus, target)))} inputs")


if __name__ == "__main__":
    main()
