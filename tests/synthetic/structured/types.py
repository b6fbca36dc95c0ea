"""The Python types the structured-output fixtures of this folder decode to.

Every shape is written four times: a msgspec ``Struct`` (``...Struct``), a pydantic model
(``...Model``), a dataclass (``...DC``) and a ``TypedDict`` (``...TD``). A shape's *stem* is the
part before the suffix (``Weather`` for ``WeatherStruct``, ``WeatherModel``, ``WeatherDC``,
``WeatherTD``); ``FIXTURES`` names the stem of each stream's structured text and of each tool's
arguments, so ``STEMS[stem]`` (or ``globals()[stem + "Struct"]``) finds the types.

The field order of each class is the order of its JSON schema's ``properties``; some fixtures send
the keys in another order on purpose (see README.md).

>>> import msgspec
>>> msgspec.json.decode(b'{"units":"f","city":"SF","temperature":58.6}', type=WeatherStruct)
WeatherStruct(city='SF', temperature=58.6, units='f')
>>> msgspec.json.decode(b'{"radius":2.5,"type":"circle"}', type=ShapeStruct)
CircleStruct(radius=2.5)
>>> sorted({stem for _, stem, _ in FIXTURES.values() if stem} - set(STEMS))
[]
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Literal

import msgspec
import pydantic
from typing_extensions import TypedDict

__all__ = [
    "FIXTURES",
    "STEMS",
    "CalendarEventDC",
    "CalendarEventModel",
    "CalendarEventStruct",
    "CalendarEventTD",
    "CircleDC",
    "CircleModel",
    "CircleStruct",
    "CircleTD",
    "ContactInfoDC",
    "ContactInfoModel",
    "ContactInfoStruct",
    "ContactInfoTD",
    "Difficulty",
    "DrawingDC",
    "DrawingModel",
    "DrawingStruct",
    "DrawingTD",
    "Exchange",
    "GetStockPriceDC",
    "GetStockPriceModel",
    "GetStockPriceStruct",
    "GetStockPriceTD",
    "GetWeatherDC",
    "GetWeatherModel",
    "GetWeatherStruct",
    "GetWeatherTD",
    "Plan",
    "RecipeDC",
    "RecipeModel",
    "RecipeStruct",
    "RecipeTD",
    "RectDC",
    "RectModel",
    "RectStruct",
    "RectTD",
    "ReviewDC",
    "ReviewModel",
    "ReviewStruct",
    "ReviewTD",
    "Sentiment",
    "ShapeDC",
    "ShapeModel",
    "ShapeStruct",
    "ShapeTD",
    "SourceDC",
    "SourceModel",
    "SourceStruct",
    "SourceTD",
    "SquareDC",
    "SquareModel",
    "SquareStruct",
    "SquareTD",
    "StepDC",
    "StepModel",
    "StepStruct",
    "StepTD",
    "WeatherDC",
    "WeatherLookupDC",
    "WeatherLookupModel",
    "WeatherLookupStruct",
    "WeatherLookupTD",
    "WeatherModel",
    "WeatherStruct",
    "WeatherTD",
]


# --------------------------------------------------------------------------- enums


class Difficulty(str, enum.Enum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Sentiment(str, enum.Enum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Exchange(str, enum.Enum):
    NASDAQ = "NASDAQ"
    NYSE = "NYSE"
    LSE = "LSE"


class Plan(str, enum.Enum):
    FREE = "Free"
    PRO = "Pro"
    ENTERPRISE = "Enterprise"


# --------------------------------------------------------------------------- Weather
# chat-response-format, chat-refusal, chat-n2-one-refusal, chat-usage (openai-python's Location)


class WeatherStruct(msgspec.Struct, forbid_unknown_fields=True):
    city: str
    temperature: float
    units: Literal["c", "f"]


class WeatherModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    city: str
    temperature: float
    units: Literal["c", "f"]


@dataclasses.dataclass
class WeatherDC:
    city: str
    temperature: float
    units: Literal["c", "f"]


class WeatherTD(TypedDict):
    city: str
    temperature: float
    units: Literal["c", "f"]


# --------------------------------------------------------------------------- Recipe
# chat-nested, chat-length


class StepStruct(msgspec.Struct, forbid_unknown_fields=True):
    n: int
    text: str
    minutes: float


class SourceStruct(msgspec.Struct, forbid_unknown_fields=True):
    author: str
    url: str


class RecipeStruct(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    servings: int
    difficulty: Difficulty
    steps: list[StepStruct]
    tags: list[str]
    source: SourceStruct


class StepModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    n: int
    text: str
    minutes: float


class SourceModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    author: str
    url: str


class RecipeModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    title: str
    servings: int
    difficulty: Difficulty
    steps: list[StepModel]
    tags: list[str]
    source: SourceModel


@dataclasses.dataclass
class StepDC:
    n: int
    text: str
    minutes: float


@dataclasses.dataclass
class SourceDC:
    author: str
    url: str


@dataclasses.dataclass
class RecipeDC:
    title: str
    servings: int
    difficulty: Difficulty
    steps: list[StepDC]
    tags: list[str]
    source: SourceDC


class StepTD(TypedDict):
    n: int
    text: str
    minutes: float


class SourceTD(TypedDict):
    author: str
    url: str


class RecipeTD(TypedDict):
    title: str
    servings: int
    difficulty: Difficulty
    steps: list[StepTD]
    tags: list[str]
    source: SourceTD


# --------------------------------------------------------------------------- Review
# chat-content-filter


class ReviewStruct(msgspec.Struct, forbid_unknown_fields=True):
    product: str
    rating: int
    sentiment: Sentiment
    summary: str


class ReviewModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    product: str
    rating: int
    sentiment: Sentiment
    summary: str


@dataclasses.dataclass
class ReviewDC:
    product: str
    rating: int
    sentiment: Sentiment
    summary: str


class ReviewTD(TypedDict):
    product: str
    rating: int
    sentiment: Sentiment
    summary: str


# --------------------------------------------------------------------------- tool arguments
# chat-strict-tools (get_weather, get_stock_price), responses-function-call (get_weather)


class GetWeatherStruct(msgspec.Struct, forbid_unknown_fields=True):
    city: str
    units: Literal["c", "f"]


class GetStockPriceStruct(msgspec.Struct, forbid_unknown_fields=True):
    ticker: str
    exchange: Exchange


class GetWeatherModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    city: str
    units: Literal["c", "f"]


class GetStockPriceModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    ticker: str
    exchange: Exchange


@dataclasses.dataclass
class GetWeatherDC:
    city: str
    units: Literal["c", "f"]


@dataclasses.dataclass
class GetStockPriceDC:
    ticker: str
    exchange: Exchange


class GetWeatherTD(TypedDict):
    city: str
    units: Literal["c", "f"]


class GetStockPriceTD(TypedDict):
    ticker: str
    exchange: Exchange


# messages-tool-use: the input of Anthropic's docs' get_weather tool


class WeatherLookupStruct(msgspec.Struct, forbid_unknown_fields=True):
    location: str
    unit: Literal["celsius", "fahrenheit"]


class WeatherLookupModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    location: str
    unit: Literal["celsius", "fahrenheit"]


@dataclasses.dataclass
class WeatherLookupDC:
    location: str
    unit: Literal["celsius", "fahrenheit"]


class WeatherLookupTD(TypedDict):
    location: str
    unit: Literal["celsius", "fahrenheit"]


# --------------------------------------------------------------------------- Drawing
# chat-tagged-union: a union tagged by "type", the tag not always the first key


class CircleStruct(msgspec.Struct, tag_field="type", tag="circle", forbid_unknown_fields=True):
    radius: float


class RectStruct(msgspec.Struct, tag_field="type", tag="rect", forbid_unknown_fields=True):
    width: float
    height: float


class SquareStruct(msgspec.Struct, tag_field="type", tag="square", forbid_unknown_fields=True):
    side: float


ShapeStruct = CircleStruct | RectStruct | SquareStruct


class DrawingStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    shape: ShapeStruct
    shapes: list[ShapeStruct]


class CircleModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    type: Literal["circle"]
    radius: float


class RectModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    type: Literal["rect"]
    width: float
    height: float


class SquareModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    type: Literal["square"]
    side: float


ShapeModel = Annotated[CircleModel | RectModel | SquareModel, pydantic.Field(discriminator="type")]


class DrawingModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    shape: ShapeModel
    shapes: list[ShapeModel]


@dataclasses.dataclass
class CircleDC:
    type: Literal["circle"]
    radius: float


@dataclasses.dataclass
class RectDC:
    type: Literal["rect"]
    width: float
    height: float


@dataclasses.dataclass
class SquareDC:
    type: Literal["square"]
    side: float


ShapeDC = CircleDC | RectDC | SquareDC


@dataclasses.dataclass
class DrawingDC:
    name: str
    shape: ShapeDC
    shapes: list[ShapeDC]


class CircleTD(TypedDict):
    type: Literal["circle"]
    radius: float


class RectTD(TypedDict):
    type: Literal["rect"]
    width: float
    height: float


class SquareTD(TypedDict):
    type: Literal["square"]
    side: float


ShapeTD = CircleTD | RectTD | SquareTD


class DrawingTD(TypedDict):
    name: str
    shape: ShapeTD
    shapes: list[ShapeTD]


# --------------------------------------------------------------------------- CalendarEvent
# responses-text-format (the Structured Outputs guide's CalendarEvent)


class CalendarEventStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    date: str
    participants: list[str]


class CalendarEventModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    date: str
    participants: list[str]


@dataclasses.dataclass
class CalendarEventDC:
    name: str
    date: str
    participants: list[str]


class CalendarEventTD(TypedDict):
    name: str
    date: str
    participants: list[str]


# --------------------------------------------------------------------------- ContactInfo
# messages-json-output, messages-max-tokens (Anthropic's structured outputs docs' example)


class ContactInfoStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str
    plan: Plan
    demo_requested: bool


class ContactInfoModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    email: str
    plan: Plan
    demo_requested: bool


@dataclasses.dataclass
class ContactInfoDC:
    name: str
    email: str
    plan: Plan
    demo_requested: bool


class ContactInfoTD(TypedDict):
    name: str
    email: str
    plan: Plan
    demo_requested: bool


# --------------------------------------------------------------------------- index

Format = Literal["chat", "responses", "messages"]

#: file name -> (wire format, stem of the structured text or None, {tool name: stem of its
#: arguments}). The stem is None when the stream carries no structured text (tool calls only,
#: or, for messages-tool-use, a prose text block beside the tool call).
FIXTURES: dict[str, tuple[Format, str | None, dict[str, str]]] = {
    "chat-response-format.sse": ("chat", "Weather", {}),
    "chat-nested.sse": ("chat", "Recipe", {}),
    "chat-refusal.sse": ("chat", "Weather", {}),
    "chat-n2-one-refusal.sse": ("chat", "Weather", {}),
    "chat-length.sse": ("chat", "Recipe", {}),
    "chat-content-filter.sse": ("chat", "Review", {}),
    "chat-strict-tools.sse": (
        "chat",
        None,
        {"get_weather": "GetWeather", "get_stock_price": "GetStockPrice"},
    ),
    "chat-tagged-union.sse": ("chat", "Drawing", {}),
    "chat-usage.sse": ("chat", "Weather", {}),
    "responses-text-format.sse": ("responses", "CalendarEvent", {}),
    "responses-function-call.sse": ("responses", None, {"get_weather": "GetWeather"}),
    "messages-tool-use.sse": ("messages", None, {"get_weather": "WeatherLookup"}),
    "messages-json-output.sse": ("messages", "ContactInfo", {}),
    "messages-max-tokens.sse": ("messages", "ContactInfo", {}),
}

#: stem -> (Struct, pydantic model, dataclass, TypedDict)
STEMS: dict[str, tuple[type[msgspec.Struct], type[pydantic.BaseModel], type, type]] = {
    "Weather": (WeatherStruct, WeatherModel, WeatherDC, WeatherTD),
    "Recipe": (RecipeStruct, RecipeModel, RecipeDC, RecipeTD),
    "Review": (ReviewStruct, ReviewModel, ReviewDC, ReviewTD),
    "GetWeather": (GetWeatherStruct, GetWeatherModel, GetWeatherDC, GetWeatherTD),
    "GetStockPrice": (GetStockPriceStruct, GetStockPriceModel, GetStockPriceDC, GetStockPriceTD),
    "WeatherLookup": (WeatherLookupStruct, WeatherLookupModel, WeatherLookupDC, WeatherLookupTD),
    "Drawing": (DrawingStruct, DrawingModel, DrawingDC, DrawingTD),
    "CalendarEvent": (CalendarEventStruct, CalendarEventModel, CalendarEventDC, CalendarEventTD),
    "ContactInfo": (ContactInfoStruct, ContactInfoModel, ContactInfoDC, ContactInfoTD),
}
