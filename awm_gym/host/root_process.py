"""The root server process: imports the web stack once, then forks one zygote per scenario (child side).

Started by :mod:`awm_gym.host.root` as ``python -m awm_gym.host.root_process CONTROL_FD``; never imported by
the parent. A fresh interpreter spends about 0.4 s importing FastAPI, Pydantic, SQLAlchemy and uvicorn;
forking from this process makes that free for every scenario after the first. What it does, in order:

1. :func:`awm_gym.host.server_process.prepare` (imports, SQLite routing hooks), then runs a small built-in
   app (:data:`WARM_UP_APP`, awm-gym's own code, written in the generated scenarios' idiom) through the exact
   zygote start-up path: load, OpenAPI, one request per route. That pulls in every module and fills every
   process-wide cache a scenario would otherwise pay for on first use. Its data is then dropped.
2. Checks it is single-threaded (forking a process with threads can deadlock the child), freezes the heap
   (``gc.freeze``: forked zygotes share these pages instead of copying them when the collector runs) and
   reports ready.
3. For every ``fork`` message (carrying the zygote's control socket) forks a child that starts its own
   session, sends its output to the zygote's log, takes the contract's environment and becomes that
   scenario's zygote (:func:`awm_gym.host.server_process.run_zygote`). Scenario code runs only there, so a
   scenario that crashes, hangs or corrupts its interpreter takes down its zygote, never the root.

Lifetime: the root exits when its control socket closes (the parent exited or died). It does not kill the
zygotes: each has its own control socket to the parent and exits, with its servers, when that closes.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import tempfile
import traceback
from typing import Any

from awm_gym.host import server_process, wire

__all__ = ["WARM_UP_APP", "main"]

# The generated scenarios' idiom (AWM's generator writes every app this way): module-level engine and
# session factory, declarative models, Pydantic request/response models, sync get_db dependency, async
# handlers with path, query and body parameters, HTTPException, create_all at import, uvicorn.run at the end.
WARM_UP_APP = """
import os
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Dict, List, Optional

import uvicorn
from fastapi import Body, Depends, FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, String, Text, and_,
                        create_engine, func, or_)
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

engine = create_engine(os.getenv("DATABASE_PATH", "sqlite:///warm_up.db"), connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


class Status(str, Enum):
    open = "open"
    closed = "closed"


class Owner(Base):
    __tablename__ = "owners"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String(100), nullable=False)
    joined = Column(DateTime, default=datetime.utcnow)
    items = relationship("Item", back_populates="owner")


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    owner_id = Column(Integer, ForeignKey("owners.id"), nullable=False)
    title = Column(String, nullable=False)
    notes = Column(Text)
    price = Column(Float, default=0.0)
    done = Column(Boolean, default=False)
    due = Column(Date)
    status = Column(String, default="open")
    owner = relationship("Owner", back_populates="items")


Base.metadata.create_all(bind=engine)
with SessionLocal() as _db:
    if not _db.query(Owner).count():
        _db.add(Owner(id=1, name="Ada"))
        _db.add(Item(id=1, owner_id=1, title="first", due=date.today() + timedelta(days=1)))
        _db.commit()

app = FastAPI(title="warm-up", version="1.0.0")


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner_id: int
    title: str
    notes: Optional[str] = None
    price: float = 0.0
    done: bool = False
    due: Optional[date] = None
    status: Status = Status.open


class ItemIn(BaseModel):
    title: str = Field(..., min_length=1, description="Title")
    notes: Optional[str] = None
    price: float = Field(0.0, ge=0)
    tags: List[str] = []
    extra: Dict[str, Any] = {}


class ItemPatch(BaseModel):
    title: Optional[str] = None
    done: Optional[bool] = None


@app.get("/items", response_model=List[ItemOut], operation_id="list_items", summary="List items")
async def list_items(q: Optional[str] = Query(None), limit: int = Query(20, ge=1, le=100),
                     db: Session = Depends(get_db)):
    query = db.query(Item)
    if q:
        query = query.filter(or_(Item.title.ilike(f"%{q}%"), Item.notes.ilike(f"%{q}%")))
    return query.order_by(Item.id.desc()).limit(limit).all()


@app.get("/items/{item_id}", response_model=ItemOut, operation_id="get_item")
async def get_item(item_id: int = Path(..., ge=1), db: Session = Depends(get_db)):
    item = db.query(Item).filter(and_(Item.id == item_id, Item.owner_id == 1)).first()
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@app.post("/items", response_model=ItemOut, status_code=201, operation_id="create_item")
async def create_item(payload: ItemIn, db: Session = Depends(get_db)):
    item = Item(owner_id=1, title=payload.title, notes=payload.notes, price=payload.price)
    db.add(item)
    db.commit()
    db.refresh(item)
    return item


@app.patch("/items/{item_id}", response_model=ItemOut, operation_id="update_item")
def update_item(item_id: int, payload: ItemPatch = Body(...), db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    for key, value in payload.model_dump(exclude_unset=True).items():
        setattr(item, key, value)
    db.commit()
    return item


@app.delete("/items/{item_id}", operation_id="delete_item")
async def delete_item(item_id: int, db: Session = Depends(get_db)):
    deleted = db.query(Item).filter(Item.id == item_id).delete()
    db.commit()
    return {"deleted": deleted, "count": db.query(func.count(Item.id)).scalar()}


if __name__ == "__main__":
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", "8000")))
"""


def _warm_up() -> None:
    """Run :data:`WARM_UP_APP` through the zygote start-up path in a scratch directory, then drop it."""
    main_module = sys.modules["__main__"]
    with tempfile.TemporaryDirectory(prefix="awm_gym-root-") as workdir:
        with open(os.path.join(workdir, "app.py"), "w", encoding="utf-8") as handle:
            handle.write(WARM_UP_APP)
        open(os.path.join(workdir, "server_template.db"), "wb").close()
        app, _config = server_process.build_zygote_app(workdir)
        server_process.write_openapi(app, workdir)  # in this process too: zygotes compute theirs in a fork
    sys.modules["__main__"] = main_module
    server_process.forget_app()
    gc.collect()


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def _become_zygote(control: socket.socket, zygote_fd: int, message: dict[str, Any]) -> int:
    """In the forked child: detach, take the zygote's log, directory and environment, then serve as its zygote."""
    control.close()
    os.setsid()  # its own process group: the parent kills the zygote and its servers with one killpg
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the root's SIG_IGN would hide its children's exit codes
    log = os.open(message["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(message["workdir"])
    os.environ.update(message["env"])
    return server_process.run_zygote(socket.socket(fileno=zygote_fd), message["workdir"])


def main(control_fd: int) -> int:
    """Prepare and warm up, report ready, then fork a zygote for every ``fork`` message until the parent goes."""
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes us
    try:
        server_process.prepare()
        _warm_up()
        threads = _thread_count()
        if threads != 1:
            raise RuntimeError(f"the root process must be single-threaded to fork safely; it has {threads} threads")
    except BaseException:
        traceback.print_exc()
        wire.send_message(control, {"ok": False, "error": traceback.format_exc()[-8000:]})
        return 1
    gc.freeze()  # everything imported so far stays out of the collector: zygotes share these pages
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps exited zygotes
    wire.send_message(control, {"ok": True, "pid": os.getpid()})
    while True:
        message, fds = wire.recv_message(control)
        if message is None:
            return 0
        threads = _thread_count()
        if message.get("op") != "fork" or len(fds) != 1 or threads != 1:
            for fd in fds:
                os.close(fd)
            error = f"unexpected control message {message!r}" if threads == 1 else f"{threads} threads: cannot fork"
            wire.send_message(control, {"ok": False, "error": error})
            continue
        pid = server_process.fork_child(_become_zygote, control, fds[0], message)
        os.close(fds[0])
        wire.send_message(control, {"ok": True, "pid": pid})


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
