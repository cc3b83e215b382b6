# expect: clean
"""Helpers with no opener of their own: parsed only because a leak check needs them."""


def close_quietly(resource):
    try:
        resource.close()
    except OSError:
        pass


def keep(registry, resource):
    registry.append(resource)


def format_price(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def parse_price(text):
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int(fraction or 0)


def slugify(name):
    return "-".join(part for part in name.lower().split() if part)


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]
