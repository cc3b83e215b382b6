"""A board module that reaches its database through a lazily imported vendored module."""
from contextlib import closing


def _kb():
    from vendor import kanban_db as kb

    return kb


def _conn(board):
    kb = _kb()
    return kb.connect(board)


def card_titles(board):
    with _conn(board) as c:  # error: CL101
        return [row[0] for row in c.execute("select title from cards")]


def archive(board, card_id):
    with _conn(board) as c:  # error: CL101
        c.execute("update cards set archived = 1 where id = ?", (card_id,))


def card_titles_fixed(board):
    with closing(_conn(board)) as c, c:
        return [row[0] for row in c.execute("select title from cards")]
