"""Request handlers: each call into store.py opens one SQLite connection."""
import json

import store


def get_open_orders(request):
    return json.dumps(store.open_orders(request.shop_id))


def post_shipped(request, order_id):
    store.mark_shipped(request.shop_id, order_id)
    return json.dumps({"total": store.order_total_fixed(request.shop_id, order_id)})
