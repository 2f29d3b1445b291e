import os
import json
from datetime import datetime, date, timedelta
from typing import List, Optional

from fastapi import FastAPI, Depends, Query, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import create_engine, Column, Integer, String, Text, Float, Date, DateTime, ForeignKey, or_
from sqlalchemy.orm import sessionmaker, declarative_base, relationship, Session

DATABASE_PATH = os.getenv("DATABASE_PATH", "sqlite:///library_loans.db")

engine = create_engine(DATABASE_PATH, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()

CURRENT_USER_ID = 1
RENEWAL_PERIOD_DAYS = 14
ALLOWED_PAYMENT_METHODS = ["credit_card", "debit_card", "paypal"]


# ---------------------------------------------------------------------------
# ORM models
# ---------------------------------------------------------------------------

class Branch(Base):
    __tablename__ = "branches"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String, nullable=False, unique=True, index=True)
    address = Column(String, nullable=False)
    phone = Column(String)
    opening_hours = Column(String)
    has_drive_up_window = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, default=datetime.utcnow)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    card_number = Column(String, nullable=False, unique=True, index=True)
    first_name = Column(String, nullable=False)
    last_name = Column(String, nullable=False)
    email = Column(String, nullable=False, unique=True)
    phone = Column(String)
    home_branch_id = Column(Integer, ForeignKey("branches.id"), nullable=False, index=True)
    membership_type = Column(String, nullable=False, default="adult")
    max_loans = Column(Integer, nullable=False, default=25)
    max_holds = Column(Integer, nullable=False, default=15)
    card_expires_on = Column(Date)
    created_at = Column(DateTime, default=datetime.utcnow)

    home_branch = relationship("Branch")


class Title(Base):
    __tablename__ = "titles"

    id = Column(Integer, primary_key=True, autoincrement=True)
    title = Column(String, nullable=False, index=True)
    author = Column(String, nullable=False, index=True)
    isbn_13 = Column(String, nullable=False, unique=True)
    edition = Column(String)
    format = Column(String, nullable=False, default="book")
    publisher = Column(String)
    publication_year = Column(Integer)
    genre = Column(String, index=True)
    page_count = Column(Integer)
    language = Column(String, nullable=False, default="English")
    summary = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)

    copies = relationship("Copy", back_populates="title")


class Copy(Base):
    __tablename__ = "copies"

    id = Column(Integer, primary_key=True, autoincrement=True)
    title_id = Column(Integer, ForeignKey("titles.id"), nullable=False, index=True)
    branch_id = Column(Integer, ForeignKey("branches.id"), nullable=False)
    barcode = Column(String, nullable=False, unique=True)
    call_number = Column(String)
    shelf_location = Column(String)
    status = Column(String, nullable=False, default="available")
    condition = Column(String, nullable=False, default="good")
    acquired_on = Column(Date)

    title = relationship("Title", back_populates="copies")
    branch = relationship("Branch")


class Loan(Base):
    __tablename__ = "loans"

    id = Column(Integer, primary_key=True, autoincrement=True)
    copy_id = Column(Integer, ForeignKey("copies.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    checkout_date = Column(DateTime, nullable=False)
    due_date = Column(Date, nullable=False, index=True)
    returned_date = Column(DateTime)
    renewal_count = Column(Integer, nullable=False, default=0)
    max_renewals = Column(Integer, nullable=False, default=2)
    status = Column(String, nullable=False, default="active")

    copy = relationship("Copy")


class Hold(Base):
    __tablename__ = "holds"

    id = Column(Integer, primary_key=True, autoincrement=True)
    title_id = Column(Integer, ForeignKey("titles.id"), nullable=False)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    pickup_branch_id = Column(Integer, ForeignKey("branches.id"), nullable=False)
    status = Column(String, nullable=False, default="waiting")
    placed_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    ready_until = Column(Date)
    cancelled_at = Column(DateTime)
    notes = Column(Text)

    title = relationship("Title")
    pickup_branch = relationship("Branch")


class Fine(Base):
    __tablename__ = "fines"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    loan_id = Column(Integer, ForeignKey("loans.id"), index=True)
    amount = Column(Float, nullable=False)
    reason = Column(String, nullable=False)
    description = Column(Text)
    status = Column(String, nullable=False, default="unpaid")
    assessed_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    paid_at = Column(DateTime)
    payment_method = Column(String)

    loan = relationship("Loan")


class Review(Base):
    __tablename__ = "reviews"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    title_id = Column(Integer, ForeignKey("titles.id"), nullable=False, index=True)
    rating = Column(Integer, nullable=False)
    review_text = Column(Text)
    tags = Column(Text, nullable=False, default="[]")
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    updated_at = Column(DateTime)

    title = relationship("Title")
    user = relationship("User")


Base.metadata.create_all(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI(
    title="Maplewood Public Library - Patron Portal API",
    description="Catalog search, loans, renewals, holds, fines and reviews for a library patron.",
    version="1.0.0",
)


# ---------------------------------------------------------------------------
# Pydantic schemas
# ---------------------------------------------------------------------------

class BranchResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    phone: Optional[str] = None
    opening_hours: Optional[str] = None
    has_drive_up_window: bool = False


class ProfileResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    card_number: str
    first_name: str
    last_name: str
    email: str
    phone: Optional[str] = None
    home_branch_id: int
    home_branch_name: Optional[str] = None
    membership_type: str
    max_loans: int
    max_holds: int
    card_expires_on: Optional[date] = None


class ProfileUpdate(BaseModel):
    email: Optional[str] = Field(None, description="New contact email address")
    phone: Optional[str] = Field(None, description="New contact phone number")
    home_branch_id: Optional[int] = Field(None, description="ID of the new home branch")


class AccountSummaryResponse(BaseModel):
    active_loans: int
    loan_limit: int
    holds_waiting: int
    holds_ready_for_pickup: int
    unpaid_fines_count: int
    unpaid_fines_total: float


class TitleResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author: str
    isbn_13: str
    edition: Optional[str] = None
    format: str
    publisher: Optional[str] = None
    publication_year: Optional[int] = None
    genre: Optional[str] = None
    page_count: Optional[int] = None
    language: str
    total_copies: int = 0
    available_copies: int = 0
    waiting_holds: int = 0


class TitleDetailResponse(TitleResponse):
    summary: Optional[str] = None
    average_rating: Optional[float] = None
    review_count: int = 0


class CopyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title_id: int
    branch_id: int
    branch_name: str
    barcode: str
    call_number: Optional[str] = None
    shelf_location: Optional[str] = None
    status: str
    condition: str


class LoanResponse(BaseModel):
    id: int
    copy_id: int
    barcode: str
    title_id: int
    title: str
    author: str
    edition: Optional[str] = None
    branch_name: str
    checkout_date: datetime
    due_date: date
    returned_date: Optional[datetime] = None
    renewal_count: int
    max_renewals: int
    renewals_remaining: int
    status: str


class HoldCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    isbn_13: str = Field(..., alias="isbn13", description="13-digit ISBN of the exact edition to place on hold")
    pickup_branch_id: int = Field(..., description="ID of the branch where the item will be picked up")
    notes: Optional[str] = Field(None, description="Optional note for library staff")


class HoldUpdate(BaseModel):
    pickup_branch_id: Optional[int] = Field(None, description="ID of the new pickup branch")
    notes: Optional[str] = Field(None, description="Replacement note for library staff")


class HoldResponse(BaseModel):
    id: int
    title_id: int
    title: str
    author: str
    edition: Optional[str] = None
    isbn_13: str
    pickup_branch_id: int
    pickup_branch_name: str
    status: str
    queue_position: Optional[int] = None
    placed_at: datetime
    ready_until: Optional[date] = None
    cancelled_at: Optional[datetime] = None
    notes: Optional[str] = None


class FineResponse(BaseModel):
    id: int
    loan_id: Optional[int] = None
    title: Optional[str] = None
    amount: float
    reason: str
    description: Optional[str] = None
    status: str
    assessed_at: datetime
    paid_at: Optional[datetime] = None
    payment_method: Optional[str] = None


class FinePayment(BaseModel):
    payment_method: str = Field(..., description="One of: credit_card, debit_card, paypal")


class ReviewCreate(BaseModel):
    title_id: int = Field(..., description="ID of the catalog title being reviewed")
    rating: int = Field(..., ge=1, le=5, description="Star rating from 1 to 5")
    review_text: Optional[str] = Field(None, description="Free-text review")
    tags: List[str] = Field(default_factory=list, description="Short descriptive tags, e.g. ['cozy mystery', 'audiobook']")


class ReviewUpdate(BaseModel):
    rating: Optional[int] = Field(None, ge=1, le=5, description="New star rating from 1 to 5")
    review_text: Optional[str] = Field(None, description="New review text")
    tags: Optional[List[str]] = Field(None, description="Replacement list of tags")


class ReviewResponse(BaseModel):
    id: int
    user_id: int
    reviewer_name: str
    title_id: int
    title: str
    rating: int
    review_text: Optional[str] = None
    tags: List[str] = []
    created_at: datetime
    updated_at: Optional[datetime] = None


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def title_to_response(db: Session, title: Title, model=TitleResponse, **extra):
    copies = db.query(Copy).filter(Copy.title_id == title.id).all()
    waiting = db.query(Hold).filter(Hold.title_id == title.id, Hold.status == "waiting").count()
    return model(
        id=title.id,
        title=title.title,
        author=title.author,
        isbn_13=title.isbn_13,
        edition=title.edition,
        format=title.format,
        publisher=title.publisher,
        publication_year=title.publication_year,
        genre=title.genre,
        page_count=title.page_count,
        language=title.language,
        total_copies=len(copies),
        available_copies=len([c for c in copies if c.status == "available"]),
        waiting_holds=waiting,
        **extra,
    )


def loan_to_response(loan: Loan) -> LoanResponse:
    copy = loan.copy
    return LoanResponse(
        id=loan.id,
        copy_id=loan.copy_id,
        barcode=copy.barcode,
        title_id=copy.title_id,
        title=copy.title.title,
        author=copy.title.author,
        edition=copy.title.edition,
        branch_name=copy.branch.name,
        checkout_date=loan.checkout_date,
        due_date=loan.due_date,
        returned_date=loan.returned_date,
        renewal_count=loan.renewal_count,
        max_renewals=loan.max_renewals,
        renewals_remaining=max(loan.max_renewals - loan.renewal_count, 0),
        status=loan.status,
    )


def queue_position_for(db: Session, hold: Hold) -> Optional[int]:
    if hold.status != "waiting":
        return None
    queue = (
        db.query(Hold)
        .filter(Hold.title_id == hold.title_id, Hold.status == "waiting")
        .order_by(Hold.placed_at.asc(), Hold.id.asc())
        .all()
    )
    for index, queued in enumerate(queue):
        if queued.id == hold.id:
            return index + 1
    return None


def hold_to_response(db: Session, hold: Hold) -> HoldResponse:
    return HoldResponse(
        id=hold.id,
        title_id=hold.title_id,
        title=hold.title.title,
        author=hold.title.author,
        edition=hold.title.edition,
        isbn_13=hold.title.isbn_13,
        pickup_branch_id=hold.pickup_branch_id,
        pickup_branch_name=hold.pickup_branch.name,
        status=hold.status,
        queue_position=queue_position_for(db, hold),
        placed_at=hold.placed_at,
        ready_until=hold.ready_until,
        cancelled_at=hold.cancelled_at,
        notes=hold.notes,
    )


def fine_to_response(fine: Fine) -> FineResponse:
    title = None
    if fine.loan is not None:
        title = fine.loan.copy.title.title
    return FineResponse(
        id=fine.id,
        loan_id=fine.loan_id,
        title=title,
        amount=round(fine.amount, 2),
        reason=fine.reason,
        description=fine.description,
        status=fine.status,
        assessed_at=fine.assessed_at,
        paid_at=fine.paid_at,
        payment_method=fine.payment_method,
    )


def review_to_response(review: Review) -> ReviewResponse:
    return ReviewResponse(
        id=review.id,
        user_id=review.user_id,
        reviewer_name=f"{review.user.first_name} {review.user.last_name[:1]}.",
        title_id=review.title_id,
        title=review.title.title,
        rating=review.rating,
        review_text=review.review_text,
        tags=json.loads(review.tags or "[]"),
        created_at=review.created_at,
        updated_at=review.updated_at,
    )


# ---------------------------------------------------------------------------
# Account
# ---------------------------------------------------------------------------

@app.get(
    "/profile",
    operation_id="get_my_profile",
    summary="Get my patron profile",
    description="Return the logged-in patron's card number, contact details, home branch and borrowing limits.",
    tags=["account"],
)
async def get_my_profile(db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "Patron not found"}
    return ProfileResponse(
        id=user.id,
        card_number=user.card_number,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        phone=user.phone,
        home_branch_id=user.home_branch_id,
        home_branch_name=user.home_branch.name if user.home_branch else None,
        membership_type=user.membership_type,
        max_loans=user.max_loans,
        max_holds=user.max_holds,
        card_expires_on=user.card_expires_on,
    )


@app.patch(
    "/profile",
    operation_id="update_my_profile",
    summary="Update my contact details or home branch",
    description="Change the logged-in patron's email, phone number or home branch. Only the provided fields are updated.",
    tags=["account"],
)
async def update_my_profile(payload: ProfileUpdate, db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "Patron not found"}
    if payload.home_branch_id is not None:
        branch = db.query(Branch).filter(Branch.id == payload.home_branch_id).first()
        if not branch:
            return {"error": "Branch not found"}
        user.home_branch_id = payload.home_branch_id
    if payload.email is not None:
        user.email = payload.email
    if payload.phone is not None:
        user.phone = payload.phone
    db.commit()
    db.refresh(user)
    return {"message": "Profile updated", "id": user.id, "email": user.email, "phone": user.phone, "home_branch_id": user.home_branch_id}


@app.get(
    "/account/summary",
    operation_id="get_account_summary",
    summary="Get my account summary",
    description="Counts of my active loans and holds plus my unpaid fine balance.",
    tags=["account"],
)
async def get_account_summary(db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "Patron not found"}
    active_loans = db.query(Loan).filter(Loan.user_id == CURRENT_USER_ID, Loan.status == "active").count()
    holds_waiting = db.query(Hold).filter(Hold.user_id == CURRENT_USER_ID, Hold.status == "waiting").count()
    holds_ready = db.query(Hold).filter(Hold.user_id == CURRENT_USER_ID, Hold.status == "ready").count()
    unpaid = db.query(Fine).filter(Fine.user_id == CURRENT_USER_ID, Fine.status == "unpaid").all()
    return AccountSummaryResponse(
        active_loans=active_loans,
        loan_limit=user.max_loans,
        holds_waiting=holds_waiting,
        holds_ready_for_pickup=holds_ready,
        unpaid_fines_count=len(unpaid),
        unpaid_fines_total=round(sum(f.amount for f in unpaid), 2),
    )


# ---------------------------------------------------------------------------
# Branches
# ---------------------------------------------------------------------------

@app.get(
    "/branches",
    operation_id="list_branches",
    summary="List library branches",
    description="List all branches of the library system with address, phone and opening hours.",
    tags=["branches"],
)
async def list_branches(
    has_drive_up_window: Optional[bool] = Query(None, description="Only branches with (true) or without (false) a drive-up window"),
    db: Session = Depends(get_db),
):
    query = db.query(Branch)
    if has_drive_up_window is not None:
        query = query.filter(Branch.has_drive_up_window == (1 if has_drive_up_window else 0))
    return [BranchResponse.model_validate(b) for b in query.order_by(Branch.id).all()]


@app.get(
    "/branches/{branch_id}",
    operation_id="get_branch",
    summary="Get a branch by ID",
    description="Return one branch's address, phone number and opening hours.",
    tags=["branches"],
)
async def get_branch(branch_id: int = Path(..., description="Branch ID"), db: Session = Depends(get_db)):
    branch = db.query(Branch).filter(Branch.id == branch_id).first()
    if not branch:
        return {"error": "Branch not found"}
    return BranchResponse.model_validate(branch)


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

@app.get(
    "/titles",
    operation_id="search_titles",
    summary="Search the catalog",
    description="Search catalog titles by keyword, author, format or genre. Each edition (ISBN) is a separate title.",
    tags=["catalog"],
)
async def search_titles(
    q: Optional[str] = Query(None, description="Keyword matched against title and author"),
    author: Optional[str] = Query(None, description="Author name (partial match)"),
    format: Optional[str] = Query(None, description="Format: book, large_print, audiobook_cd"),
    genre: Optional[str] = Query(None, description="Genre (partial match)"),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of results"),
    db: Session = Depends(get_db),
):
    query = db.query(Title)
    if q:
        query = query.filter(or_(Title.title.ilike(f"%{q}%"), Title.author.ilike(f"%{q}%")))
    if author:
        query = query.filter(Title.author.ilike(f"%{author}%"))
    if format:
        query = query.filter(Title.format == format)
    if genre:
        query = query.filter(Title.genre.ilike(f"%{genre}%"))
    titles = query.order_by(Title.title, Title.id).limit(limit).all()
    return [title_to_response(db, t) for t in titles]


@app.get(
    "/titles/{title_id}",
    operation_id="get_title",
    summary="Get catalog title details",
    description="Return one title with its summary, copy and hold counts and average patron rating.",
    tags=["catalog"],
)
async def get_title(title_id: int = Path(..., description="Title ID"), db: Session = Depends(get_db)):
    title = db.query(Title).filter(Title.id == title_id).first()
    if not title:
        return {"error": "Title not found"}
    reviews = db.query(Review).filter(Review.title_id == title_id).all()
    average = round(sum(r.rating for r in reviews) / len(reviews), 2) if reviews else None
    return title_to_response(db, title, model=TitleDetailResponse, summary=title.summary, average_rating=average, review_count=len(reviews))


@app.get(
    "/titles/{title_id}/copies",
    operation_id="list_title_copies",
    summary="List physical copies of a title",
    description="List copies of one title with branch, shelf location and status; filter by branch or status.",
    tags=["catalog"],
)
async def list_title_copies(
    title_id: int = Path(..., description="Title ID"),
    branch_id: Optional[int] = Query(None, description="Only copies owned by this branch"),
    status: Optional[str] = Query(None, description="Copy status: available, checked_out, on_hold_shelf, in_transit"),
    db: Session = Depends(get_db),
):
    title = db.query(Title).filter(Title.id == title_id).first()
    if not title:
        return {"error": "Title not found"}
    query = db.query(Copy).filter(Copy.title_id == title_id)
    if branch_id is not None:
        query = query.filter(Copy.branch_id == branch_id)
    if status:
        query = query.filter(Copy.status == status)
    copies = query.order_by(Copy.branch_id, Copy.id).all()
    return [
        CopyResponse(
            id=c.id,
            title_id=c.title_id,
            branch_id=c.branch_id,
            branch_name=c.branch.name,
            barcode=c.barcode,
            call_number=c.call_number,
            shelf_location=c.shelf_location,
            status=c.status,
            condition=c.condition,
        )
        for c in copies
    ]


@app.get(
    "/titles/{title_id}/reviews",
    operation_id="list_title_reviews",
    summary="List patron reviews of a title",
    description="List reviews other patrons and I have written for one title, newest first.",
    tags=["reviews"],
)
async def list_title_reviews(
    title_id: int = Path(..., description="Title ID"),
    min_rating: Optional[int] = Query(None, ge=1, le=5, description="Only reviews with at least this many stars"),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of reviews"),
    db: Session = Depends(get_db),
):
    title = db.query(Title).filter(Title.id == title_id).first()
    if not title:
        return {"error": "Title not found"}
    query = db.query(Review).filter(Review.title_id == title_id)
    if min_rating is not None:
        query = query.filter(Review.rating >= min_rating)
    reviews = query.order_by(Review.created_at.desc()).limit(limit).all()
    return [review_to_response(r) for r in reviews]


# ---------------------------------------------------------------------------
# Loans
# ---------------------------------------------------------------------------

@app.get(
    "/loans",
    operation_id="list_my_loans",
    summary="List my loans",
    description="List my checkouts with title, branch and due date; filter by status (active or returned).",
    tags=["loans"],
)
async def list_my_loans(
    status: Optional[str] = Query(None, description="Loan status: active or returned"),
    db: Session = Depends(get_db),
):
    query = db.query(Loan).filter(Loan.user_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Loan.status == status)
    loans = query.order_by(Loan.due_date.asc(), Loan.id.asc()).all()
    return [loan_to_response(l) for l in loans]


@app.get(
    "/loans/{loan_id}",
    operation_id="get_loan",
    summary="Get one of my loans",
    description="Return a single loan of mine with its due date and renewal count.",
    tags=["loans"],
)
async def get_loan(loan_id: int = Path(..., description="Loan ID"), db: Session = Depends(get_db)):
    loan = db.query(Loan).filter(Loan.id == loan_id, Loan.user_id == CURRENT_USER_ID).first()
    if not loan:
        return {"error": "Loan not found"}
    return loan_to_response(loan)


@app.post(
    "/loans/{loan_id}/renew",
    operation_id="renew_loan",
    summary="Renew one of my loans",
    description="Extend an active loan by 14 days from its current due date. Fails if renewals are used up or others hold the title.",
    tags=["loans"],
)
async def renew_loan(loan_id: int = Path(..., description="Loan ID"), db: Session = Depends(get_db)):
    loan = db.query(Loan).filter(Loan.id == loan_id, Loan.user_id == CURRENT_USER_ID).first()
    if not loan:
        return {"error": "Loan not found"}
    if loan.status != "active" or loan.returned_date is not None:
        return {"error": "This loan has already been returned and cannot be renewed"}
    if loan.renewal_count >= loan.max_renewals:
        return {"error": "No renewals remaining for this loan"}
    waiting = (
        db.query(Hold)
        .filter(Hold.title_id == loan.copy.title_id, Hold.status == "waiting", Hold.user_id != CURRENT_USER_ID)
        .count()
    )
    if waiting > 0:
        return {"error": "This title has holds from other patrons and cannot be renewed"}
    loan.due_date = loan.due_date + timedelta(days=RENEWAL_PERIOD_DAYS)
    loan.renewal_count = loan.renewal_count + 1
    db.commit()
    db.refresh(loan)
    return {"message": "Loan renewed", "loan": loan_to_response(loan)}


# ---------------------------------------------------------------------------
# Holds
# ---------------------------------------------------------------------------

@app.get(
    "/holds",
    operation_id="list_my_holds",
    summary="List my holds",
    description="List my holds with pickup branch and current queue position; filter by status (waiting, ready, fulfilled, cancelled).",
    tags=["holds"],
)
async def list_my_holds(
    status: Optional[str] = Query(None, description="Hold status: waiting, ready, fulfilled, cancelled"),
    db: Session = Depends(get_db),
):
    query = db.query(Hold).filter(Hold.user_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Hold.status == status)
    holds = query.order_by(Hold.placed_at.desc()).all()
    return [hold_to_response(db, h) for h in holds]


@app.get(
    "/holds/{hold_id}",
    operation_id="get_hold",
    summary="Get one of my holds",
    description="Return a single hold of mine with its status and queue position.",
    tags=["holds"],
)
async def get_hold(hold_id: int = Path(..., description="Hold ID"), db: Session = Depends(get_db)):
    hold = db.query(Hold).filter(Hold.id == hold_id, Hold.user_id == CURRENT_USER_ID).first()
    if not hold:
        return {"error": "Hold not found"}
    return hold_to_response(db, hold)


@app.post(
    "/holds",
    operation_id="place_hold",
    summary="Place a hold on a title",
    description="Place a hold on the exact edition identified by its ISBN-13, to be picked up at the chosen branch.",
    tags=["holds"],
)
async def place_hold(payload: HoldCreate, db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    isbn = payload.isbn_13.replace("-", "").replace(" ", "")
    title = db.query(Title).filter(Title.isbn_13 == isbn).first()
    if not title:
        return {"error": "No catalog title with that ISBN-13"}
    branch = db.query(Branch).filter(Branch.id == payload.pickup_branch_id).first()
    if not branch:
        return {"error": "Pickup branch not found"}
    existing = (
        db.query(Hold)
        .filter(Hold.user_id == CURRENT_USER_ID, Hold.title_id == title.id, Hold.status.in_(["waiting", "ready"]))
        .first()
    )
    if existing:
        return {"error": "You already have an open hold on this title", "hold_id": existing.id}
    open_holds = db.query(Hold).filter(Hold.user_id == CURRENT_USER_ID, Hold.status.in_(["waiting", "ready"])).count()
    if open_holds >= user.max_holds:
        return {"error": "Hold limit reached"}
    hold = Hold(
        title_id=title.id,
        user_id=CURRENT_USER_ID,
        pickup_branch_id=payload.pickup_branch_id,
        status="waiting",
        placed_at=datetime.utcnow(),
        notes=payload.notes,
    )
    db.add(hold)
    db.commit()
    db.refresh(hold)
    return hold_to_response(db, hold)


@app.patch(
    "/holds/{hold_id}",
    operation_id="update_hold",
    summary="Change a hold's pickup branch or note",
    description="Change the pickup branch or staff note of one of my waiting holds.",
    tags=["holds"],
)
async def update_hold(payload: HoldUpdate, hold_id: int = Path(..., description="Hold ID"), db: Session = Depends(get_db)):
    hold = db.query(Hold).filter(Hold.id == hold_id, Hold.user_id == CURRENT_USER_ID).first()
    if not hold:
        return {"error": "Hold not found"}
    if hold.status != "waiting":
        return {"error": "Only waiting holds can be changed"}
    if payload.pickup_branch_id is not None:
        branch = db.query(Branch).filter(Branch.id == payload.pickup_branch_id).first()
        if not branch:
            return {"error": "Pickup branch not found"}
        hold.pickup_branch_id = payload.pickup_branch_id
    if payload.notes is not None:
        hold.notes = payload.notes
    db.commit()
    db.refresh(hold)
    return hold_to_response(db, hold)


@app.delete(
    "/holds/{hold_id}",
    operation_id="cancel_hold",
    summary="Cancel one of my holds",
    description="Cancel a waiting or ready hold of mine; the hold stays in my history with status cancelled.",
    tags=["holds"],
)
async def cancel_hold(hold_id: int = Path(..., description="Hold ID"), db: Session = Depends(get_db)):
    hold = db.query(Hold).filter(Hold.id == hold_id, Hold.user_id == CURRENT_USER_ID).first()
    if not hold:
        return {"error": "Hold not found"}
    if hold.status not in ("waiting", "ready"):
        return {"error": f"Hold is already {hold.status}"}
    hold.status = "cancelled"
    hold.cancelled_at = datetime.utcnow()
    db.commit()
    return {"message": "Hold cancelled", "hold_id": hold.id, "title": hold.title.title}


# ---------------------------------------------------------------------------
# Fines
# ---------------------------------------------------------------------------

@app.get(
    "/fines",
    operation_id="list_my_fines",
    summary="List my fines and fees",
    description="List my fines with amount, reason and status; filter by status (unpaid, paid, waived).",
    tags=["fines"],
)
async def list_my_fines(
    status: Optional[str] = Query(None, description="Fine status: unpaid, paid, waived"),
    db: Session = Depends(get_db),
):
    query = db.query(Fine).filter(Fine.user_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Fine.status == status)
    fines = query.order_by(Fine.assessed_at.desc()).all()
    return [fine_to_response(f) for f in fines]


@app.get(
    "/fines/{fine_id}",
    operation_id="get_fine",
    summary="Get one of my fines",
    description="Return a single fine of mine with its amount, reason and payment status.",
    tags=["fines"],
)
async def get_fine(fine_id: int = Path(..., description="Fine ID"), db: Session = Depends(get_db)):
    fine = db.query(Fine).filter(Fine.id == fine_id, Fine.user_id == CURRENT_USER_ID).first()
    if not fine:
        return {"error": "Fine not found"}
    return fine_to_response(fine)


@app.post(
    "/fines/{fine_id}/pay",
    operation_id="pay_fine",
    summary="Pay one of my fines",
    description="Pay an unpaid fine in full. payment_method must be credit_card, debit_card or paypal.",
    tags=["fines"],
)
async def pay_fine(payload: FinePayment, fine_id: int = Path(..., description="Fine ID"), db: Session = Depends(get_db)):
    fine = db.query(Fine).filter(Fine.id == fine_id, Fine.user_id == CURRENT_USER_ID).first()
    if not fine:
        return {"error": "Fine not found"}
    if fine.status != "unpaid":
        return {"error": f"Fine is already {fine.status}"}
    if payload.payment_method not in ALLOWED_PAYMENT_METHODS:
        return {"error": "Invalid payment method", "allowed": ALLOWED_PAYMENT_METHODS}
    fine.status = "paid"
    fine.paid_at = datetime.utcnow()
    fine.payment_method = payload.payment_method
    db.commit()
    db.refresh(fine)
    return {"message": "Payment received", "fine": fine_to_response(fine)}


# ---------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------

@app.get(
    "/reviews",
    operation_id="list_my_reviews",
    summary="List my reviews",
    description="List the reviews I have written, newest first.",
    tags=["reviews"],
)
async def list_my_reviews(db: Session = Depends(get_db)):
    reviews = db.query(Review).filter(Review.user_id == CURRENT_USER_ID).order_by(Review.created_at.desc()).all()
    return [review_to_response(r) for r in reviews]


@app.post(
    "/reviews",
    operation_id="create_review",
    summary="Write a review of a title",
    description="Post a star rating, optional text and a list of tags for a catalog title. One review per title per patron.",
    tags=["reviews"],
)
async def create_review(payload: ReviewCreate, db: Session = Depends(get_db)):
    title = db.query(Title).filter(Title.id == payload.title_id).first()
    if not title:
        return {"error": "Title not found"}
    existing = db.query(Review).filter(Review.user_id == CURRENT_USER_ID, Review.title_id == payload.title_id).first()
    if existing:
        return {"error": "You have already reviewed this title", "review_id": existing.id}
    tags = [t.strip() for t in payload.tags if t and t.strip()]
    review = Review(
        user_id=CURRENT_USER_ID,
        title_id=payload.title_id,
        rating=payload.rating,
        review_text=payload.review_text,
        tags=json.dumps(tags),
        created_at=datetime.utcnow(),
    )
    db.add(review)
    db.commit()
    db.refresh(review)
    return review_to_response(review)


@app.put(
    "/reviews/{review_id}",
    operation_id="update_review",
    summary="Edit one of my reviews",
    description="Change the rating, text or tags of a review I wrote. Only the provided fields are updated.",
    tags=["reviews"],
)
async def update_review(payload: ReviewUpdate, review_id: int = Path(..., description="Review ID"), db: Session = Depends(get_db)):
    review = db.query(Review).filter(Review.id == review_id, Review.user_id == CURRENT_USER_ID).first()
    if not review:
        return {"error": "Review not found"}
    if payload.rating is not None:
        review.rating = payload.rating
    if payload.review_text is not None:
        review.review_text = payload.review_text
    if payload.tags is not None:
        review.tags = json.dumps([t.strip() for t in payload.tags if t and t.strip()])
    review.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(review)
    return review_to_response(review)


@app.delete(
    "/reviews/{review_id}",
    operation_id="delete_review",
    summary="Delete one of my reviews",
    description="Permanently delete a review I wrote.",
    tags=["reviews"],
)
async def delete_review(review_id: int = Path(..., description="Review ID"), db: Session = Depends(get_db)):
    review = db.query(Review).filter(Review.id == review_id, Review.user_id == CURRENT_USER_ID).first()
    if not review:
        return {"error": "Review not found"}
    db.delete(review)
    db.commit()
    return {"message": "Review deleted", "review_id": review_id}


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
