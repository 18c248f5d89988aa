"""A small Lambda function: validates the request body and builds the URL it would call."""

import json

import requests
from pydantic import BaseModel


class Order(BaseModel):
    id: int
    item: str


def handler(event, context):
    order = Order.model_validate(json.loads(event["body"]))
    url = requests.Request("GET", "https://example.com/orders", params={"id": order.id}).prepare().url
    return {"statusCode": 200, "body": json.dumps({"order": order.model_dump(), "url": url})}
