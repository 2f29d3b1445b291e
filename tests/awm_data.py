"""Small AgentWorldModel-1K data written by the tests, in the release format, with the real data's quirks.

``write_release(directory)`` writes the eight jsonl files for two scenarios:

- ``Tiny Shop 1`` (key ``tiny_shop_1``: the raw name needs normalising): a shop with a backslash-quoted
  insert, ``datetime('now', ...)`` values, a ``metadata`` column, a ``class`` (keyword) column, a multi-line
  ``create_engine(`` call, an INSERT that violates a foreign key, a code verifier whose helper named
  ``verify_*`` comes first, a null verifier, a stale duplicate verifier record, and ``sample_data`` as a
  bare list;
- ``tiny_notes_2``: a minimal notes app whose ``tasks`` field is a JSON string and whose sample data is a
  list of SQL strings.

The reference solutions (``SOLUTIONS``) are what the acceptance check replays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHOP_CODE = """
import os
from typing import Optional, List
from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Column, Integer, String, Float, Text, ForeignKey, create_engine,
)
from sqlalchemy.orm import sessionmaker, declarative_base, Session
from fastapi import Depends

DATABASE_PATH = os.getenv("DATABASE_PATH", "sqlite:///xxxx.db")
engine = create_engine(
    DATABASE_PATH,
    connect_args={"check_same_thread": False},
)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()
CURRENT_USER_ID = 1


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)


class Product(Base):
    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
    price = Column(Float, nullable=False)
    product_class = Column("class", String)
    product_metadata = Column("metadata", Text)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False)
    quantity = Column(Integer, nullable=False)
    status = Column(String, nullable=False)
    created_at = Column(String)


Base.metadata.create_all(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    id: int
    name: str
    price: float
    product_class: Optional[str] = Field(None, serialization_alias="class")
    product_metadata: Optional[str] = Field(None, serialization_alias="metadata")


class OrderIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    product_id: int
    quantity: int = Field(1, ge=1)
    order_class: Optional[str] = Field(None, alias="class")


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    product_id: int
    quantity: int
    status: str


app = FastAPI(title="Tiny Shop")


@app.get("/products", operation_id="list_products", summary="List products",
         description="List products, cheapest first.", tags=["products"], response_model=List[ProductOut])
async def list_products(limit: int = Query(10, ge=1), product_class: Optional[str] = Query(None, alias="class"),
                        db: Session = Depends(get_db)):
    query = db.query(Product)
    if product_class:
        query = query.filter(Product.product_class == product_class)
    return query.order_by(Product.price).limit(limit).all()


@app.get("/products/{product_id}", operation_id="get_product", summary="Get a product",
         description="One product by id.", tags=["products"])
async def get_product(product_id: int, db: Session = Depends(get_db)):
    product = db.query(Product).filter(Product.id == product_id).first()
    if product is None:
        return {"error": "Product not found"}
    return ProductOut.model_validate(product).model_dump(by_alias=True)


@app.get("/orders", operation_id="list_my_orders", summary="List my orders",
         description="Orders of the logged-in user.", tags=["orders"], response_model=List[OrderOut])
async def list_my_orders(status: Optional[str] = None, db: Session = Depends(get_db)):
    query = db.query(Order).filter(Order.user_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Order.status == status)
    return query.all()


@app.post("/orders", operation_id="place_order", summary="Place an order",
          description="Order a product for the logged-in user.", tags=["orders"], response_model=OrderOut)
async def place_order(order: OrderIn, db: Session = Depends(get_db)):
    row = Order(user_id=CURRENT_USER_ID, product_id=order.product_id, quantity=order.quantity, status="placed")
    db.add(row)
    db.commit()
    db.refresh(row)
    return row


@app.put("/orders/{order_id}/cancel", operation_id="cancel_order", summary="Cancel an order",
         description="Cancel one of my orders.", tags=["orders"])
async def cancel_order(order_id: int, db: Session = Depends(get_db)):
    row = db.query(Order).filter(Order.id == order_id, Order.user_id == CURRENT_USER_ID).first()
    if row is None:
        return {"error": "Order not found"}
    row.status = "cancelled"
    db.commit()
    return {"id": row.id, "status": row.status}


@app.get("/boom", operation_id="explode", summary="Always fails", description="Raises.", tags=["debug"])
async def explode():
    raise RuntimeError("kaboom")


@app.get("/crash", operation_id="crash_server", summary="Kills the server", description="Exits.", tags=["debug"])
async def crash_server():
    os._exit(3)


@app.get("/block", operation_id="block_server", summary="Blocks the loop", description="Sleeps without yielding.", tags=["debug"])
async def block_server(seconds: float = 0.1):
    import time
    time.sleep(seconds)
    return {"blocked": seconds}


@app.get("/slow", operation_id="slow_call", summary="Sleeps", description="Sleeps.", tags=["debug"])
async def slow_call(seconds: float = 0.1):
    import asyncio
    await asyncio.sleep(seconds)
    return {"slept": seconds}


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
"""

SHOP_TABLES = [
    {
        "name": "users",
        "ddl": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
        "indexes": [],
    },
    {
        "name": "products",
        "ddl": "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, "
        '"class" TEXT, metadata TEXT);',
        "indexes": ["CREATE INDEX idx_products_price ON products(price);"],
    },
    {
        "name": "orders",
        "ddl": "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), "
        "product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL, status TEXT NOT NULL, "
        "created_at TEXT);",
        "indexes": ["CREATE INDEX idx_orders_user ON orders(user_id);"],
    },
]

SHOP_SAMPLE = [
    {
        "table_name": "users",
        "reasoning": "two users",
        "insert_statements": [
            "INSERT INTO users (id, name) VALUES (1, 'Ada');",
            "INSERT INTO users (id, name) VALUES (2, 'Mr. O\\'Brien');",
        ],
    },
    {
        "table_name": "products",
        "reasoning": "products",
        "insert_statements": [
            "INSERT INTO products (id, name, price, \"class\", metadata) VALUES (1, 'Kettle', 25.0, 'kitchen', '{\"color\": \"red\"}');",
            "INSERT INTO products (id, name, price, \"class\", metadata) VALUES (2, 'Chef\\'s Knife', 40.0, 'kitchen', NULL);",
            "INSERT INTO products (id, name, price, \"class\", metadata) VALUES (3, 'Lamp', 15.5, 'home', NULL);",
        ],
    },
    {
        "table_name": "orders",
        "reasoning": "orders; the last one names a missing product",
        "insert_statements": [
            "INSERT INTO orders (id, user_id, product_id, quantity, status, created_at) VALUES "
            "(1, 1, 1, 1, 'placed', datetime('now', '-2 days'));",
            "INSERT INTO orders (id, user_id, product_id, quantity, status, created_at) VALUES "
            "(2, 2, 3, 2, 'placed', datetime('now', '-1 days'));",
            "INSERT INTO orders (id, user_id, product_id, quantity, status, created_at) VALUES "
            "(3, 1, 99, 1, 'placed', datetime('now'));",
        ],
    },
]

SHOP_TASKS = [
    "What is the price of the cheapest kitchen product?",
    "Order two lamps for me.",
    "Cancel my order of the kettle.",
    "Tell me a joke.",
]

_SHOP_CODE_VERIFIERS = [
    # 0: read task, helper named verify_* comes first
    """
import sqlite3

def verify_price_format(text):
    return "25" in (text or "")

def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    return {"result": "complete" if verify_price_format(final_answer) else "others"}
""",
    # 1: write task
    """
import sqlite3

def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    before = sqlite3.connect(initial_db_path).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    rows = sqlite3.connect(final_db_path).execute(
        "SELECT quantity FROM orders WHERE user_id = 1 AND product_id = 3 AND status = 'placed'").fetchall()
    after = sqlite3.connect(final_db_path).execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    ok = after == before + 1 and [r[0] for r in rows] == [2]
    return {"result": "complete" if ok else "others", "rows": rows}
""",
    # 2: write task; positional parameters with other names (AWM passes them positionally)
    """
import sqlite3

def verify_task_completion(before_path, after_path):
    status = sqlite3.connect(after_path).execute("SELECT status FROM orders WHERE id = 1").fetchone()[0]
    other = sqlite3.connect(after_path).execute("SELECT status FROM orders WHERE id = 2").fetchone()[0]
    return {"result": "complete" if status == "cancelled" and other == "placed" else "others"}
""",
    None,  # 3: generation failed
]

_SHOP_SQL_VERIFIERS = [
    """
def verify_task(initial_db_path, final_db_path):
    return {"cheapest_kitchen_price": 25.0}
""",
    """
import sqlite3

def verify_task(initial_db_path, final_db_path):
    rows = sqlite3.connect(final_db_path).execute("SELECT product_id, quantity FROM orders WHERE user_id = 1").fetchall()
    return {"my_orders": rows}
""",
    """
import sqlite3

def _status(path):
    return sqlite3.connect(path).execute("SELECT status FROM orders WHERE id = 1").fetchone()[0]

def verify_task(initial_db_path, final_db_path):
    return {"before": _status(initial_db_path), "after": _status(final_db_path)}
""",
    None,
]

NOTES_CODE = """
import os
from fastapi import FastAPI, Depends
from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import sessionmaker, declarative_base, Session

engine = create_engine(os.getenv("DATABASE_PATH", "sqlite:///xxxx.db"), connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, nullable=False)
    text = Column(String, nullable=False)


Base.metadata.create_all(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


class NoteIn(BaseModel):
    text: str


@app.get("/notes", operation_id="list_notes", summary="List my notes", description="All my notes.", tags=["notes"])
async def list_notes(db: Session = Depends(get_db)):
    return [{"id": n.id, "text": n.text} for n in db.query(Note).filter(Note.user_id == 1).all()]


@app.post("/notes", operation_id="add_note", summary="Add a note", description="Add a note.", tags=["notes"])
async def add_note(note: NoteIn, db: Session = Depends(get_db)):
    row = Note(user_id=1, text=note.text)
    db.add(row)
    db.commit()
    return {"id": row.id, "text": row.text}


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
"""

NOTES_TASKS = ["Add a note saying 'buy milk'.", "How many notes do I have?"]

_NOTES_CODE_VERIFIERS = [
    """
import sqlite3

def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    texts = [r[0] for r in sqlite3.connect(final_db_path).execute("SELECT text FROM notes WHERE user_id = 1")]
    return {"result": "complete" if "buy milk" in texts else "others"}
""",
    """
def verify_task_completion(initial_db_path, final_db_path, final_answer=None):
    return {"result": "complete" if final_answer and "1" in final_answer else "others"}
""",
]

#: (scenario key, task_idx) -> (tool calls, final answer). Task 3 of the shop has no verifier.
SOLUTIONS: dict[tuple[str, int], tuple[list[dict[str, Any]], str]] = {
    ("tiny_shop_1", 0): ([{"name": "list_products", "arguments": {"class": "kitchen", "limit": 1}}], "It costs $25."),
    ("tiny_shop_1", 1): ([{"name": "place_order", "arguments": {"product_id": 3, "quantity": 2}}], "Done."),
    ("tiny_shop_1", 2): (
        [{"name": "list_my_orders", "arguments": {}}, {"name": "cancel_order", "arguments": {"order_id": 1}}],
        "Cancelled.",
    ),
    ("tiny_notes_2", 0): ([{"name": "add_note", "arguments": {"text": "buy milk"}}], "Added."),
    ("tiny_notes_2", 1): ([{"name": "list_notes", "arguments": {}}], "You have 1 note."),
}


def _verifier_records(scenario: str, tasks: list[str], codes: list[str | None]) -> list[dict[str, Any]]:
    return [
        {"scenario": scenario, "task_idx": idx, "task": task, "verification": {"code": code, "raw_response": None}}
        for idx, (task, code) in enumerate(zip(tasks, codes, strict=True))
    ]


def _write_files(directory: Path, files: dict[str, list[dict[str, Any]]]) -> Path:
    for name, records in files.items():
        with open(directory / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
    return directory


def write_release(directory: Path) -> Path:
    """Write the two scenarios as the eight AgentWorldModel-1K jsonl files; returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    code_records = _verifier_records("tiny_shop_1", SHOP_TASKS, _SHOP_CODE_VERIFIERS)
    # A stale duplicate of task 0 that comes first and failed generation: it must not shadow the real one.
    code_records.insert(
        0, {"scenario": "tiny_shop_1", "task_idx": 0, "task": SHOP_TASKS[0], "verification": {"code": None}}
    )
    code_records += _verifier_records("tiny_notes_2", NOTES_TASKS, _NOTES_CODE_VERIFIERS)
    sql_records = _verifier_records("tiny_shop_1", SHOP_TASKS, _SHOP_SQL_VERIFIERS)
    files: dict[str, list[dict[str, Any]]] = {
        "gen_scenario": [
            {"name": "Tiny Shop 1", "description": "A tiny shop."},
            {"name": "tiny_notes_2", "description": "Notes."},
        ],
        "gen_tasks": [
            {"scenario": "Tiny Shop 1", "tasks": SHOP_TASKS},
            {"scenario": "tiny_notes_2", "tasks": json.dumps(NOTES_TASKS)},
        ],
        "gen_db": [
            {
                "scenario": "Tiny Shop 1",
                "db_schema": {"tables": SHOP_TABLES},
                "db_path": "./outputs/databases/tiny_shop_1.db",
            },
            {
                "scenario": "tiny_notes_2",
                "db_schema": {
                    "tables": [
                        {
                            "name": "notes",
                            "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, "
                            "user_id INTEGER NOT NULL, text TEXT NOT NULL);",
                            "indexes": [],
                        }
                    ]
                },
                "db_path": "x.db",
            },
        ],
        "gen_sample": [
            {"scenario": "Tiny Shop 1", "sample_data": SHOP_SAMPLE},
            {
                "scenario": "tiny_notes_2",
                "sample_data": [
                    "INSERT INTO notes (id, user_id, text) VALUES (1, 1, 'call mom');",
                    "INSERT INTO notes (id, user_id, text) VALUES (2, 2, 'not mine');",
                ],
            },
        ],
        "gen_spec": [{"scenario": "Tiny Shop 1", "api_spec": {"api_groups": []}}],
        "gen_envs": [
            {"scenario": "Tiny Shop 1", "db_path": "x.db", "full_code": SHOP_CODE},
            {"scenario": "tiny_notes_2", "db_path": "x.db", "full_code": NOTES_CODE},
        ],
        "gen_verifier": sql_records,
        "gen_verifier.pure_code": code_records,
    }
    return _write_files(directory, files)


def write_broken_release(directory: Path) -> Path:
    """Scenarios broken in the typical ways ``awm-gym check`` must name.

    ``broken_import_1``: the server code fails to import. ``broken_verify_2``: task 0's code verifier raises,
    task 1 has no verifier at all. ``broken_insert_3``: one sample insert is invalid SQL.
    """
    directory.mkdir(parents=True, exist_ok=True)
    notes_db = {
        "tables": [
            {
                "name": "notes",
                "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, text TEXT NOT NULL);",
            }
        ]
    }
    good_insert = "INSERT INTO notes (id, user_id, text) VALUES (1, 1, 'call mom');"
    names = ["broken_import_1", "broken_verify_2", "broken_insert_3"]
    files: dict[str, list[dict[str, Any]]] = {
        "gen_scenario": [{"name": n, "description": "Broken on purpose."} for n in names],
        "gen_tasks": [{"scenario": n, "tasks": NOTES_TASKS} for n in names],
        "gen_db": [{"scenario": n, "db_schema": notes_db} for n in names],
        "gen_sample": [
            {"scenario": "broken_import_1", "sample_data": [good_insert]},
            {"scenario": "broken_verify_2", "sample_data": [good_insert]},
            {
                "scenario": "broken_insert_3",
                "sample_data": [good_insert, "INSERT INTO notes (id, text VALUES (2, 'x');"],
            },
        ],
        "gen_envs": [
            {"scenario": "broken_import_1", "full_code": "import fastapi_that_does_not_exist\n"},
            {"scenario": "broken_verify_2", "full_code": NOTES_CODE},
            {"scenario": "broken_insert_3", "full_code": NOTES_CODE},
        ],
        "gen_verifier.pure_code": [
            *(
                {"scenario": n, "task_idx": i, "verification": {"code": _NOTES_CODE_VERIFIERS[i]}}
                for n in names
                for i in (0, 1)
                if n != "broken_verify_2"
            ),
            {
                "scenario": "broken_verify_2",
                "task_idx": 0,
                "verification": {
                    "code": "def verify_task_completion(initial_db_path, final_db_path, final_answer=None):\n    raise KeyError('notes_v2')\n"
                },
            },
        ],
        "gen_verifier": [
            {
                "scenario": n,
                "task_idx": i,
                "verification": {"code": "def verify_task(initial_db_path, final_db_path):\n    return {}\n"},
            }
            for n in names
            for i in (0, 1)
            if not (n == "broken_verify_2" and i == 1)
        ],
    }
    return _write_files(directory, files)
