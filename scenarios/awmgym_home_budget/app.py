import os
import json
from datetime import datetime
from typing import List, Optional

from fastapi import FastAPI, Depends, Query, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import create_engine, Column, Integer, String, Text, Float, ForeignKey, func
from sqlalchemy.orm import declarative_base, sessionmaker, Session

DATABASE_PATH = os.getenv("DATABASE_PATH", "sqlite:///home_budget.db")

engine = create_engine(DATABASE_PATH, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()

CURRENT_USER_ID = 1


# ---------------------------------------------------------------------------
# ORM models
# ---------------------------------------------------------------------------

class Household(Base):
    __tablename__ = "households"

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(Text, nullable=False)
    currency = Column(Text, nullable=False, default="USD")
    timezone = Column(Text, nullable=False, default="America/Chicago")
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    username = Column(Text, nullable=False, unique=True)
    email = Column(Text, nullable=False, unique=True)
    full_name = Column(Text, nullable=False)
    role = Column(Text, nullable=False, default="member")
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    owner_user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    name = Column(Text, nullable=False)
    account_type = Column(Text, nullable=False)
    institution = Column(Text)
    last_four = Column(Text)
    current_balance = Column(Float, nullable=False, default=0.0)
    status = Column(Text, nullable=False, default="open", index=True)
    opened_on = Column(Text)
    closed_on = Column(Text)
    last_synced_at = Column(Text)


class Category(Base):
    __tablename__ = "categories"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    name = Column(Text, nullable=False)
    kind = Column(Text, nullable=False, default="expense")
    color = Column(Text)
    is_archived = Column(Integer, nullable=False, default=0)
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class Transaction(Base):
    __tablename__ = "transactions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    category_id = Column(Integer, ForeignKey("categories.id"), index=True)
    amount = Column(Float, nullable=False)
    txn_type = Column(Text, nullable=False, default="debit")
    merchant = Column(Text, nullable=False)
    memo = Column(Text)
    txn_date = Column(Text, nullable=False, index=True)
    status = Column(Text, nullable=False, default="posted")
    # "metadata" is reserved on declarative classes, so the attribute is renamed and mapped to the column
    txn_metadata = Column("metadata", Text)
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class Budget(Base):
    __tablename__ = "budgets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False)
    category_id = Column(Integer, ForeignKey("categories.id"), nullable=False, index=True)
    month = Column(Text, nullable=False)
    amount_limit = Column(Float, nullable=False)
    alert_threshold_pct = Column(Integer, nullable=False, default=80)
    rollover = Column(Integer, nullable=False, default=0)
    notes = Column(Text)
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class RecurringBill(Base):
    __tablename__ = "recurring_bills"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    category_id = Column(Integer, ForeignKey("categories.id"))
    name = Column(Text, nullable=False)
    payee = Column(Text, nullable=False)
    amount = Column(Float, nullable=False)
    frequency = Column(Text, nullable=False, default="monthly")
    next_due_date = Column(Text, index=True)
    autopay = Column(Integer, nullable=False, default=0)
    is_active = Column(Integer, nullable=False, default=1)
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))


class SavingsGoal(Base):
    __tablename__ = "savings_goals"

    id = Column(Integer, primary_key=True, autoincrement=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    linked_account_id = Column(Integer, ForeignKey("accounts.id"))
    name = Column(Text, nullable=False)
    target_amount = Column(Float, nullable=False)
    current_amount = Column(Float, nullable=False, default=0.0)
    target_date = Column(Text)
    status = Column(Text, nullable=False, default="active")
    created_at = Column(Text, nullable=False, default=lambda: datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"))
    updated_at = Column(Text)


Base.metadata.create_all(bind=engine)


# ---------------------------------------------------------------------------
# Pydantic models
# ---------------------------------------------------------------------------

class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    username: str
    email: str
    full_name: str
    role: str
    created_at: Optional[str] = None


class HouseholdMemberResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: str


class AccountResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    owner_user_id: int
    name: str
    account_type: str
    institution: Optional[str] = None
    last_four: Optional[str] = None
    current_balance: float
    status: str
    opened_on: Optional[str] = None
    closed_on: Optional[str] = None
    last_synced_at: Optional[str] = None


class AccountCreate(BaseModel):
    name: str = Field(..., description="Display name of the account, e.g. 'Everyday Checking'")
    account_type: str = Field(..., pattern="^(checking|savings|credit_card|cash)$", description="checking, savings, credit_card or cash")
    institution: Optional[str] = Field(None, description="Bank or card issuer")
    last_four: Optional[str] = Field(None, description="Last four digits of the account number")
    current_balance: float = Field(0.0, description="Current balance in dollars (negative for card balances owed)")
    opened_on: Optional[str] = Field(None, description="Date opened (YYYY-MM-DD)")


class AccountUpdate(BaseModel):
    name: Optional[str] = None
    institution: Optional[str] = None
    current_balance: Optional[float] = None
    status: Optional[str] = Field(None, pattern="^(open|closed)$", description="open or closed")
    closed_on: Optional[str] = Field(None, description="Date closed (YYYY-MM-DD)")


class CategoryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    name: str
    kind: str
    color: Optional[str] = None
    is_archived: int
    created_at: Optional[str] = None


class CategoryCreate(BaseModel):
    name: str = Field(..., description="Category name, unique within the household")
    kind: str = Field("expense", pattern="^(expense|income)$", description="expense or income")
    color: Optional[str] = Field(None, description="Hex color used in charts, e.g. '#4CAF50'")


class CategoryUpdate(BaseModel):
    name: Optional[str] = None
    color: Optional[str] = None
    is_archived: Optional[int] = Field(None, ge=0, le=1, description="1 to archive, 0 to restore")


class TransactionResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    account_id: int
    account_name: Optional[str] = None
    user_id: int
    category_id: Optional[int] = None
    category_name: Optional[str] = None
    amount: float
    txn_type: str
    merchant: str
    memo: Optional[str] = None
    txn_date: str
    status: str
    txn_metadata: Optional[str] = Field(None, alias="metadata", description="JSON text with merchant category code, receipt or import details")
    created_at: Optional[str] = None


class TransactionCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    account_id: int = Field(..., description="Account the transaction posted to")
    category_id: Optional[int] = Field(None, description="Category ID; leave empty for transfers and card payments")
    amount: float = Field(..., gt=0, description="Positive amount in dollars")
    txn_type: str = Field("debit", pattern="^(debit|credit)$", description="debit for money out, credit for money in")
    merchant: str = Field(..., description="Merchant or payee name")
    memo: Optional[str] = Field(None, description="Free-text note")
    txn_date: str = Field(..., description="Transaction date (YYYY-MM-DD)")
    status: str = Field("posted", pattern="^(posted|pending)$", description="posted or pending")
    txn_metadata: Optional[str] = Field(None, alias="metadata", description="JSON object as a string, e.g. '{\"mcc\": \"5411\", \"receipt_id\": \"R-1\"}'")

    @field_validator("txn_metadata")
    @classmethod
    def metadata_must_be_json(cls, v):
        if v is not None:
            json.loads(v)
        return v


class TransactionUpdate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    category_id: Optional[int] = Field(None, description="New category ID")
    amount: Optional[float] = Field(None, gt=0, description="Corrected amount in dollars")
    merchant: Optional[str] = None
    memo: Optional[str] = None
    txn_date: Optional[str] = Field(None, description="Corrected date (YYYY-MM-DD)")
    status: Optional[str] = Field(None, pattern="^(posted|pending)$")
    txn_metadata: Optional[str] = Field(None, alias="metadata", description="Replacement JSON object as a string")

    @field_validator("txn_metadata")
    @classmethod
    def metadata_must_be_json(cls, v):
        if v is not None:
            json.loads(v)
        return v


class BudgetResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    category_id: int
    month: str
    amount_limit: float
    alert_threshold_pct: int
    rollover: int
    notes: Optional[str] = None
    created_at: Optional[str] = None


class BudgetCreate(BaseModel):
    category_id: int = Field(..., description="Expense category the budget applies to")
    month: str = Field(..., pattern=r"^\d{4}-\d{2}$", description="Budget month as YYYY-MM")
    amount_limit: float = Field(..., gt=0, description="Monthly spending limit in dollars")
    alert_threshold_pct: int = Field(80, ge=1, le=100, description="Percent of the limit that triggers an alert")
    rollover: int = Field(0, ge=0, le=1, description="1 to roll unspent money into next month")
    notes: Optional[str] = None


class BudgetUpdate(BaseModel):
    amount_limit: Optional[float] = Field(None, gt=0, description="New monthly limit in dollars")
    alert_threshold_pct: Optional[int] = Field(None, ge=1, le=100, description="Percent of the limit that triggers an alert")
    rollover: Optional[int] = Field(None, ge=0, le=1)
    notes: Optional[str] = None


class BudgetStatusItem(BaseModel):
    budget_id: int
    category_id: int
    category_name: str
    month: str
    amount_limit: float
    spent: float
    remaining: float
    percent_used: float
    over_budget: bool


class CategorySpendItem(BaseModel):
    category_id: Optional[int] = None
    category_name: str
    total_spent: float
    transaction_count: int


class RecurringBillResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    user_id: int
    account_id: int
    category_id: Optional[int] = None
    name: str
    payee: str
    amount: float
    frequency: str
    next_due_date: Optional[str] = None
    autopay: int
    is_active: int
    created_at: Optional[str] = None


class RecurringBillCreate(BaseModel):
    account_id: int = Field(..., description="Account the bill is paid from")
    category_id: Optional[int] = None
    name: str = Field(..., description="Bill name, e.g. 'Home Internet'")
    payee: str = Field(..., description="Company or person being paid")
    amount: float = Field(..., gt=0, description="Amount per period in dollars")
    frequency: str = Field("monthly", pattern="^(weekly|monthly|quarterly|annual)$")
    next_due_date: Optional[str] = Field(None, description="Next due date (YYYY-MM-DD)")
    autopay: int = Field(0, ge=0, le=1)


class RecurringBillUpdate(BaseModel):
    account_id: Optional[int] = Field(None, description="Move the bill to another open account")
    category_id: Optional[int] = None
    name: Optional[str] = None
    payee: Optional[str] = None
    amount: Optional[float] = Field(None, gt=0)
    frequency: Optional[str] = Field(None, pattern="^(weekly|monthly|quarterly|annual)$")
    next_due_date: Optional[str] = None
    autopay: Optional[int] = Field(None, ge=0, le=1)
    is_active: Optional[int] = Field(None, ge=0, le=1)


class SavingsGoalResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_id: int
    user_id: int
    linked_account_id: Optional[int] = None
    name: str
    target_amount: float
    current_amount: float
    target_date: Optional[str] = None
    status: str
    created_at: Optional[str] = None
    updated_at: Optional[str] = None


class SavingsGoalCreate(BaseModel):
    name: str = Field(..., description="Goal name")
    target_amount: float = Field(..., gt=0, description="Target amount in dollars")
    current_amount: float = Field(0.0, ge=0, description="Amount already saved")
    target_date: Optional[str] = Field(None, description="Target date (YYYY-MM-DD)")
    linked_account_id: Optional[int] = Field(None, description="Savings account that holds the money")


class SavingsGoalUpdate(BaseModel):
    name: Optional[str] = None
    target_amount: Optional[float] = Field(None, gt=0)
    current_amount: Optional[float] = Field(None, ge=0)
    target_date: Optional[str] = None
    linked_account_id: Optional[int] = None
    status: Optional[str] = Field(None, pattern="^(active|achieved|paused)$", description="active, achieved or paused")


class ContributionCreate(BaseModel):
    amount: float = Field(..., gt=0, description="Amount to add to the goal in dollars")


# ---------------------------------------------------------------------------
# App and helpers
# ---------------------------------------------------------------------------

app = FastAPI(
    title="Home Budget API",
    description="Household budgeting: accounts, categories, transactions, monthly budgets, recurring bills and savings goals.",
    version="1.0.0",
)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def _now() -> str:
    return datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")


def _current_household_id(db: Session) -> int:
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    return user.household_id


def _member_ids(db: Session, household_id: int) -> List[int]:
    return [u.id for u in db.query(User).filter(User.household_id == household_id).all()]


def _txn_to_response(db: Session, txn: Transaction) -> TransactionResponse:
    account = db.query(Account).filter(Account.id == txn.account_id).first()
    category = db.query(Category).filter(Category.id == txn.category_id).first() if txn.category_id else None
    return TransactionResponse(
        id=txn.id,
        account_id=txn.account_id,
        account_name=account.name if account else None,
        user_id=txn.user_id,
        category_id=txn.category_id,
        category_name=category.name if category else None,
        amount=txn.amount,
        txn_type=txn.txn_type,
        merchant=txn.merchant,
        memo=txn.memo,
        txn_date=txn.txn_date,
        status=txn.status,
        txn_metadata=txn.txn_metadata,
        created_at=txn.created_at,
    )


def _household_transaction(db: Session, transaction_id: int):
    household_id = _current_household_id(db)
    return (
        db.query(Transaction)
        .filter(Transaction.id == transaction_id, Transaction.user_id.in_(_member_ids(db, household_id)))
        .first()
    )


# ---------------------------------------------------------------------------
# Users & household
# ---------------------------------------------------------------------------

@app.get(
    "/users/me",
    operation_id="get_current_user",
    summary="Get the logged-in user's profile",
    description="Returns the profile of the currently logged-in user, including household ID and role.",
    tags=["Users"],
)
async def get_current_user(db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "User not found"}
    return UserResponse.model_validate(user)


@app.get(
    "/household/members",
    operation_id="list_household_members",
    summary="List members of my household",
    description="Lists everyone who shares the logged-in user's household budget, with their user IDs and roles.",
    tags=["Users"],
    response_model=List[HouseholdMemberResponse],
)
async def list_household_members(db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    members = db.query(User).filter(User.household_id == household_id).order_by(User.id).all()
    return [HouseholdMemberResponse.model_validate(m) for m in members]


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

@app.get(
    "/accounts",
    operation_id="list_accounts",
    summary="List household accounts",
    description="Lists bank and card accounts in my household. Filter by status (open/closed), account type or owner.",
    tags=["Accounts"],
    response_model=List[AccountResponse],
)
async def list_accounts(
    status: Optional[str] = Query(None, description="open or closed"),
    account_type: Optional[str] = Query(None, description="checking, savings, credit_card or cash"),
    owner_user_id: Optional[int] = Query(None, description="Only accounts owned by this household member"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(Account).filter(Account.household_id == household_id)
    if status:
        query = query.filter(Account.status == status)
    if account_type:
        query = query.filter(Account.account_type == account_type)
    if owner_user_id is not None:
        query = query.filter(Account.owner_user_id == owner_user_id)
    return [AccountResponse.model_validate(a) for a in query.order_by(Account.id).all()]


@app.get(
    "/accounts/{account_id}",
    operation_id="get_account",
    summary="Get an account by ID",
    description="Returns one household account with its balance, status and last sync time.",
    tags=["Accounts"],
)
async def get_account(account_id: int = Path(..., description="Account ID"), db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    account = db.query(Account).filter(Account.id == account_id, Account.household_id == household_id).first()
    if not account:
        return {"error": "Account not found"}
    return AccountResponse.model_validate(account)


@app.post(
    "/accounts",
    operation_id="create_account",
    summary="Add an account",
    description="Adds a new checking, savings, credit card or cash account owned by the logged-in user.",
    tags=["Accounts"],
)
async def create_account(account: AccountCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    new_account = Account(
        household_id=household_id,
        owner_user_id=CURRENT_USER_ID,
        name=account.name,
        account_type=account.account_type,
        institution=account.institution,
        last_four=account.last_four,
        current_balance=account.current_balance,
        status="open",
        opened_on=account.opened_on or datetime.utcnow().strftime("%Y-%m-%d"),
        last_synced_at=_now(),
    )
    db.add(new_account)
    db.commit()
    db.refresh(new_account)
    return AccountResponse.model_validate(new_account)


@app.put(
    "/accounts/{account_id}",
    operation_id="update_account",
    summary="Update an account",
    description="Renames an account, corrects its balance or marks it open/closed. Only the fields provided are changed.",
    tags=["Accounts"],
)
async def update_account(account_id: int, account_update: AccountUpdate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    account = db.query(Account).filter(Account.id == account_id, Account.household_id == household_id).first()
    if not account:
        return {"error": "Account not found"}
    for key, value in account_update.model_dump(exclude_unset=True).items():
        setattr(account, key, value)
    if account_update.status == "closed" and not account.closed_on:
        account.closed_on = datetime.utcnow().strftime("%Y-%m-%d")
    if account_update.status == "open":
        account.closed_on = None
    db.commit()
    db.refresh(account)
    return AccountResponse.model_validate(account)


# ---------------------------------------------------------------------------
# Categories
# ---------------------------------------------------------------------------

@app.get(
    "/categories",
    operation_id="list_categories",
    summary="List spending and income categories",
    description="Lists household categories. Filter by kind (expense/income) or a name search; archived ones are hidden unless requested.",
    tags=["Categories"],
    response_model=List[CategoryResponse],
)
async def list_categories(
    kind: Optional[str] = Query(None, description="expense or income"),
    search: Optional[str] = Query(None, description="Case-insensitive substring of the category name"),
    include_archived: bool = Query(False, description="Include archived categories"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(Category).filter(Category.household_id == household_id)
    if kind:
        query = query.filter(Category.kind == kind)
    if search:
        query = query.filter(Category.name.ilike(f"%{search}%"))
    if not include_archived:
        query = query.filter(Category.is_archived == 0)
    return [CategoryResponse.model_validate(c) for c in query.order_by(Category.name).all()]


@app.post(
    "/categories",
    operation_id="create_category",
    summary="Create a category",
    description="Creates a new expense or income category shared by the whole household.",
    tags=["Categories"],
)
async def create_category(category: CategoryCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    existing = db.query(Category).filter(Category.household_id == household_id, Category.name == category.name).first()
    if existing:
        return {"error": "A category with this name already exists"}
    new_category = Category(
        household_id=household_id,
        name=category.name,
        kind=category.kind,
        color=category.color,
        is_archived=0,
        created_at=_now(),
    )
    db.add(new_category)
    db.commit()
    db.refresh(new_category)
    return CategoryResponse.model_validate(new_category)


@app.put(
    "/categories/{category_id}",
    operation_id="update_category",
    summary="Update a category",
    description="Renames, recolors, archives or restores a household category.",
    tags=["Categories"],
)
async def update_category(category_id: int, category_update: CategoryUpdate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    category = db.query(Category).filter(Category.id == category_id, Category.household_id == household_id).first()
    if not category:
        return {"error": "Category not found"}
    if category_update.name and category_update.name != category.name:
        duplicate = db.query(Category).filter(Category.household_id == household_id, Category.name == category_update.name).first()
        if duplicate:
            return {"error": "A category with this name already exists"}
    for key, value in category_update.model_dump(exclude_unset=True).items():
        setattr(category, key, value)
    db.commit()
    db.refresh(category)
    return CategoryResponse.model_validate(category)


# ---------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------

@app.get(
    "/transactions",
    operation_id="list_transactions",
    summary="Search household transactions",
    description="Lists household transactions, newest first. Filter by account, category, member, date range, amount range, merchant, type or status.",
    tags=["Transactions"],
    response_model=List[TransactionResponse],
)
async def list_transactions(
    account_id: Optional[int] = Query(None, description="Only this account"),
    category_id: Optional[int] = Query(None, description="Only this category"),
    member_id: Optional[int] = Query(None, description="Only transactions made by this household member (user ID)"),
    start_date: Optional[str] = Query(None, description="Earliest transaction date, inclusive (YYYY-MM-DD)"),
    end_date: Optional[str] = Query(None, description="Latest transaction date, inclusive (YYYY-MM-DD)"),
    min_amount: Optional[float] = Query(None, description="Minimum amount in dollars"),
    max_amount: Optional[float] = Query(None, description="Maximum amount in dollars"),
    merchant: Optional[str] = Query(None, description="Case-insensitive substring of the merchant name"),
    txn_type: Optional[str] = Query(None, description="debit or credit"),
    status: Optional[str] = Query(None, description="posted or pending"),
    limit: int = Query(100, ge=1, le=500, description="Maximum number of rows"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(Transaction).filter(Transaction.user_id.in_(_member_ids(db, household_id)))
    if account_id is not None:
        query = query.filter(Transaction.account_id == account_id)
    if category_id is not None:
        query = query.filter(Transaction.category_id == category_id)
    if member_id is not None:
        query = query.filter(Transaction.user_id == member_id)
    if start_date:
        query = query.filter(Transaction.txn_date >= start_date)
    if end_date:
        query = query.filter(Transaction.txn_date <= end_date)
    if min_amount is not None:
        query = query.filter(Transaction.amount >= min_amount)
    if max_amount is not None:
        query = query.filter(Transaction.amount <= max_amount)
    if merchant:
        query = query.filter(Transaction.merchant.ilike(f"%{merchant}%"))
    if txn_type:
        query = query.filter(Transaction.txn_type == txn_type)
    if status:
        query = query.filter(Transaction.status == status)
    transactions = query.order_by(Transaction.txn_date.desc(), Transaction.id.desc()).limit(limit).all()
    return [_txn_to_response(db, t) for t in transactions]


@app.get(
    "/transactions/{transaction_id}",
    operation_id="get_transaction",
    summary="Get a transaction by ID",
    description="Returns one household transaction including its metadata JSON (merchant category code, receipt details).",
    tags=["Transactions"],
)
async def get_transaction(transaction_id: int = Path(..., description="Transaction ID"), db: Session = Depends(get_db)):
    txn = _household_transaction(db, transaction_id)
    if not txn:
        return {"error": "Transaction not found"}
    return _txn_to_response(db, txn)


@app.post(
    "/transactions",
    operation_id="create_transaction",
    summary="Record a manual transaction",
    description="Records a transaction made by the logged-in user on an open household account; metadata is a JSON object string.",
    tags=["Transactions"],
)
async def create_transaction(transaction: TransactionCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    account = db.query(Account).filter(Account.id == transaction.account_id, Account.household_id == household_id).first()
    if not account:
        return {"error": "Account not found"}
    if account.status == "closed":
        return {"error": "Account is closed"}
    if transaction.category_id is not None:
        category = db.query(Category).filter(Category.id == transaction.category_id, Category.household_id == household_id).first()
        if not category:
            return {"error": "Category not found"}
    new_txn = Transaction(
        account_id=transaction.account_id,
        user_id=CURRENT_USER_ID,
        category_id=transaction.category_id,
        amount=round(transaction.amount, 2),
        txn_type=transaction.txn_type,
        merchant=transaction.merchant,
        memo=transaction.memo,
        txn_date=transaction.txn_date,
        status=transaction.status,
        txn_metadata=transaction.txn_metadata,
        created_at=_now(),
    )
    db.add(new_txn)
    db.commit()
    db.refresh(new_txn)
    return _txn_to_response(db, new_txn)


@app.patch(
    "/transactions/{transaction_id}",
    operation_id="update_transaction",
    summary="Edit a transaction",
    description="Partially updates a household transaction: recategorize, fix amount/date/merchant, edit memo or replace its metadata JSON.",
    tags=["Transactions"],
)
async def update_transaction(transaction_id: int, transaction_update: TransactionUpdate, db: Session = Depends(get_db)):
    txn = _household_transaction(db, transaction_id)
    if not txn:
        return {"error": "Transaction not found"}
    updates = transaction_update.model_dump(exclude_unset=True)
    if updates.get("category_id") is not None:
        household_id = _current_household_id(db)
        category = db.query(Category).filter(Category.id == updates["category_id"], Category.household_id == household_id).first()
        if not category:
            return {"error": "Category not found"}
    for key, value in updates.items():
        setattr(txn, key, value)
    db.commit()
    db.refresh(txn)
    return _txn_to_response(db, txn)


@app.delete(
    "/transactions/{transaction_id}",
    operation_id="delete_transaction",
    summary="Delete a transaction",
    description="Permanently deletes a household transaction, e.g. a duplicate import.",
    tags=["Transactions"],
)
async def delete_transaction(transaction_id: int, db: Session = Depends(get_db)):
    txn = _household_transaction(db, transaction_id)
    if not txn:
        return {"error": "Transaction not found"}
    db.delete(txn)
    db.commit()
    return {"message": "Transaction deleted", "transaction_id": transaction_id}


# ---------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------

@app.get(
    "/budgets",
    operation_id="list_budgets",
    summary="List monthly category budgets",
    description="Lists the household's monthly budgets. Filter by month (YYYY-MM) and/or category.",
    tags=["Budgets"],
    response_model=List[BudgetResponse],
)
async def list_budgets(
    month: Optional[str] = Query(None, description="Budget month as YYYY-MM"),
    category_id: Optional[int] = Query(None, description="Only budgets for this category"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(Budget).filter(Budget.household_id == household_id)
    if month:
        query = query.filter(Budget.month == month)
    if category_id is not None:
        query = query.filter(Budget.category_id == category_id)
    return [BudgetResponse.model_validate(b) for b in query.order_by(Budget.month.desc(), Budget.category_id).all()]


@app.post(
    "/budgets",
    operation_id="create_budget",
    summary="Create a monthly budget",
    description="Sets a spending limit for one expense category in one month (one budget per category and month).",
    tags=["Budgets"],
)
async def create_budget(budget: BudgetCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    category = db.query(Category).filter(Category.id == budget.category_id, Category.household_id == household_id).first()
    if not category:
        return {"error": "Category not found"}
    existing = db.query(Budget).filter(Budget.category_id == budget.category_id, Budget.month == budget.month).first()
    if existing:
        return {"error": "A budget for this category and month already exists", "budget_id": existing.id}
    new_budget = Budget(
        household_id=household_id,
        category_id=budget.category_id,
        month=budget.month,
        amount_limit=budget.amount_limit,
        alert_threshold_pct=budget.alert_threshold_pct,
        rollover=budget.rollover,
        notes=budget.notes,
        created_at=_now(),
    )
    db.add(new_budget)
    db.commit()
    db.refresh(new_budget)
    return BudgetResponse.model_validate(new_budget)


@app.patch(
    "/budgets/{budget_id}",
    operation_id="update_budget",
    summary="Adjust a monthly budget",
    description="Partially updates a budget: change the limit, alert threshold, rollover flag or notes.",
    tags=["Budgets"],
)
async def update_budget(budget_id: int, budget_update: BudgetUpdate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    budget = db.query(Budget).filter(Budget.id == budget_id, Budget.household_id == household_id).first()
    if not budget:
        return {"error": "Budget not found"}
    for key, value in budget_update.model_dump(exclude_unset=True).items():
        setattr(budget, key, value)
    db.commit()
    db.refresh(budget)
    return BudgetResponse.model_validate(budget)


@app.delete(
    "/budgets/{budget_id}",
    operation_id="delete_budget",
    summary="Delete a monthly budget",
    description="Removes a category budget for a month.",
    tags=["Budgets"],
)
async def delete_budget(budget_id: int, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    budget = db.query(Budget).filter(Budget.id == budget_id, Budget.household_id == household_id).first()
    if not budget:
        return {"error": "Budget not found"}
    db.delete(budget)
    db.commit()
    return {"message": "Budget deleted", "budget_id": budget_id}


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------

@app.get(
    "/reports/budget-status",
    operation_id="get_budget_status",
    summary="Budget vs. actual spending for a month",
    description="For each budget in the month, sums debit transactions of all household members in that category and compares to the limit.",
    tags=["Reports"],
    response_model=List[BudgetStatusItem],
)
async def get_budget_status(
    month: str = Query(..., pattern=r"^\d{4}-\d{2}$", description="Month as YYYY-MM"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    member_ids = _member_ids(db, household_id)
    budgets = db.query(Budget).filter(Budget.household_id == household_id, Budget.month == month).all()
    results = []
    for budget in budgets:
        category = db.query(Category).filter(Category.id == budget.category_id).first()
        spent = (
            db.query(func.coalesce(func.sum(Transaction.amount), 0.0))
            .filter(
                Transaction.user_id.in_(member_ids),
                Transaction.category_id == budget.category_id,
                Transaction.txn_type == "debit",
                Transaction.txn_date >= f"{month}-01",
                Transaction.txn_date <= f"{month}-31",
            )
            .scalar()
        )
        spent = round(float(spent), 2)
        results.append(
            BudgetStatusItem(
                budget_id=budget.id,
                category_id=budget.category_id,
                category_name=category.name if category else "Unknown",
                month=budget.month,
                amount_limit=budget.amount_limit,
                spent=spent,
                remaining=round(budget.amount_limit - spent, 2),
                percent_used=round(spent / budget.amount_limit * 100, 1) if budget.amount_limit else 0.0,
                over_budget=spent > budget.amount_limit,
            )
        )
    return results


@app.get(
    "/reports/spending-by-category",
    operation_id="get_spending_by_category",
    summary="Total spending per category",
    description="Sums debit transactions per category over a date range, optionally for one member or one account.",
    tags=["Reports"],
    response_model=List[CategorySpendItem],
)
async def get_spending_by_category(
    start_date: str = Query(..., description="Start date, inclusive (YYYY-MM-DD)"),
    end_date: str = Query(..., description="End date, inclusive (YYYY-MM-DD)"),
    member_id: Optional[int] = Query(None, description="Only this household member's spending"),
    account_id: Optional[int] = Query(None, description="Only this account"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = (
        db.query(Transaction.category_id, func.sum(Transaction.amount), func.count(Transaction.id))
        .filter(
            Transaction.user_id.in_(_member_ids(db, household_id)),
            Transaction.txn_type == "debit",
            Transaction.txn_date >= start_date,
            Transaction.txn_date <= end_date,
        )
    )
    if member_id is not None:
        query = query.filter(Transaction.user_id == member_id)
    if account_id is not None:
        query = query.filter(Transaction.account_id == account_id)
    rows = query.group_by(Transaction.category_id).all()
    results = []
    for category_id, total, count in rows:
        category = db.query(Category).filter(Category.id == category_id).first() if category_id else None
        results.append(
            CategorySpendItem(
                category_id=category_id,
                category_name=category.name if category else "Uncategorized",
                total_spent=round(float(total or 0), 2),
                transaction_count=count,
            )
        )
    results.sort(key=lambda r: r.total_spent, reverse=True)
    return results


# ---------------------------------------------------------------------------
# Recurring bills
# ---------------------------------------------------------------------------

@app.get(
    "/recurring-bills",
    operation_id="list_recurring_bills",
    summary="List recurring bills",
    description="Lists the household's scheduled bills with payment account and next due date. Filter by account, member or active flag.",
    tags=["Recurring Bills"],
    response_model=List[RecurringBillResponse],
)
async def list_recurring_bills(
    account_id: Optional[int] = Query(None, description="Only bills paid from this account"),
    member_id: Optional[int] = Query(None, description="Only bills managed by this household member"),
    is_active: Optional[int] = Query(None, ge=0, le=1, description="1 for active bills, 0 for cancelled ones"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(RecurringBill).filter(RecurringBill.household_id == household_id)
    if account_id is not None:
        query = query.filter(RecurringBill.account_id == account_id)
    if member_id is not None:
        query = query.filter(RecurringBill.user_id == member_id)
    if is_active is not None:
        query = query.filter(RecurringBill.is_active == is_active)
    return [RecurringBillResponse.model_validate(b) for b in query.order_by(RecurringBill.next_due_date).all()]


@app.get(
    "/recurring-bills/{bill_id}",
    operation_id="get_recurring_bill",
    summary="Get a recurring bill by ID",
    description="Returns one recurring bill with its amount, frequency, payment account and autopay setting.",
    tags=["Recurring Bills"],
)
async def get_recurring_bill(bill_id: int = Path(..., description="Recurring bill ID"), db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    bill = db.query(RecurringBill).filter(RecurringBill.id == bill_id, RecurringBill.household_id == household_id).first()
    if not bill:
        return {"error": "Recurring bill not found"}
    return RecurringBillResponse.model_validate(bill)


@app.post(
    "/recurring-bills",
    operation_id="create_recurring_bill",
    summary="Add a recurring bill",
    description="Schedules a new recurring bill paid from an open household account, managed by the logged-in user.",
    tags=["Recurring Bills"],
)
async def create_recurring_bill(bill: RecurringBillCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    account = db.query(Account).filter(Account.id == bill.account_id, Account.household_id == household_id).first()
    if not account:
        return {"error": "Account not found"}
    if account.status == "closed":
        return {"error": "Account is closed"}
    if bill.category_id is not None:
        category = db.query(Category).filter(Category.id == bill.category_id, Category.household_id == household_id).first()
        if not category:
            return {"error": "Category not found"}
    new_bill = RecurringBill(
        household_id=household_id,
        user_id=CURRENT_USER_ID,
        account_id=bill.account_id,
        category_id=bill.category_id,
        name=bill.name,
        payee=bill.payee,
        amount=bill.amount,
        frequency=bill.frequency,
        next_due_date=bill.next_due_date,
        autopay=bill.autopay,
        is_active=1,
        created_at=_now(),
    )
    db.add(new_bill)
    db.commit()
    db.refresh(new_bill)
    return RecurringBillResponse.model_validate(new_bill)


@app.put(
    "/recurring-bills/{bill_id}",
    operation_id="update_recurring_bill",
    summary="Update a recurring bill",
    description="Changes a recurring bill, e.g. moves it to another open account, edits the amount or due date, or deactivates it.",
    tags=["Recurring Bills"],
)
async def update_recurring_bill(bill_id: int, bill_update: RecurringBillUpdate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    bill = db.query(RecurringBill).filter(RecurringBill.id == bill_id, RecurringBill.household_id == household_id).first()
    if not bill:
        return {"error": "Recurring bill not found"}
    if bill_update.account_id is not None:
        account = db.query(Account).filter(Account.id == bill_update.account_id, Account.household_id == household_id).first()
        if not account:
            return {"error": "Account not found"}
        if account.status == "closed":
            return {"error": "Account is closed"}
    if bill_update.category_id is not None:
        category = db.query(Category).filter(Category.id == bill_update.category_id, Category.household_id == household_id).first()
        if not category:
            return {"error": "Category not found"}
    for key, value in bill_update.model_dump(exclude_unset=True).items():
        setattr(bill, key, value)
    db.commit()
    db.refresh(bill)
    return RecurringBillResponse.model_validate(bill)


@app.delete(
    "/recurring-bills/{bill_id}",
    operation_id="delete_recurring_bill",
    summary="Delete a recurring bill",
    description="Permanently removes a recurring bill from the household schedule.",
    tags=["Recurring Bills"],
)
async def delete_recurring_bill(bill_id: int, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    bill = db.query(RecurringBill).filter(RecurringBill.id == bill_id, RecurringBill.household_id == household_id).first()
    if not bill:
        return {"error": "Recurring bill not found"}
    db.delete(bill)
    db.commit()
    return {"message": "Recurring bill deleted", "bill_id": bill_id}


# ---------------------------------------------------------------------------
# Savings goals
# ---------------------------------------------------------------------------

@app.get(
    "/savings-goals",
    operation_id="list_savings_goals",
    summary="List savings goals",
    description="Lists household savings goals with target, amount saved and target date. Filter by status or member.",
    tags=["Savings Goals"],
    response_model=List[SavingsGoalResponse],
)
async def list_savings_goals(
    status: Optional[str] = Query(None, description="active, achieved or paused"),
    member_id: Optional[int] = Query(None, description="Only goals owned by this household member"),
    db: Session = Depends(get_db),
):
    household_id = _current_household_id(db)
    query = db.query(SavingsGoal).filter(SavingsGoal.household_id == household_id)
    if status:
        query = query.filter(SavingsGoal.status == status)
    if member_id is not None:
        query = query.filter(SavingsGoal.user_id == member_id)
    return [SavingsGoalResponse.model_validate(g) for g in query.order_by(SavingsGoal.id).all()]


@app.post(
    "/savings-goals",
    operation_id="create_savings_goal",
    summary="Create a savings goal",
    description="Creates a savings goal owned by the logged-in user, optionally linked to a household savings account.",
    tags=["Savings Goals"],
)
async def create_savings_goal(goal: SavingsGoalCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    if goal.linked_account_id is not None:
        account = db.query(Account).filter(Account.id == goal.linked_account_id, Account.household_id == household_id).first()
        if not account:
            return {"error": "Account not found"}
    new_goal = SavingsGoal(
        household_id=household_id,
        user_id=CURRENT_USER_ID,
        linked_account_id=goal.linked_account_id,
        name=goal.name,
        target_amount=goal.target_amount,
        current_amount=goal.current_amount,
        target_date=goal.target_date,
        status="achieved" if goal.current_amount >= goal.target_amount else "active",
        created_at=_now(),
        updated_at=_now(),
    )
    db.add(new_goal)
    db.commit()
    db.refresh(new_goal)
    return SavingsGoalResponse.model_validate(new_goal)


@app.put(
    "/savings-goals/{goal_id}",
    operation_id="update_savings_goal",
    summary="Update a savings goal",
    description="Edits a savings goal's name, target, saved amount, date, linked account or status (active/achieved/paused).",
    tags=["Savings Goals"],
)
async def update_savings_goal(goal_id: int, goal_update: SavingsGoalUpdate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    goal = db.query(SavingsGoal).filter(SavingsGoal.id == goal_id, SavingsGoal.household_id == household_id).first()
    if not goal:
        return {"error": "Savings goal not found"}
    if goal_update.linked_account_id is not None:
        account = db.query(Account).filter(Account.id == goal_update.linked_account_id, Account.household_id == household_id).first()
        if not account:
            return {"error": "Account not found"}
    for key, value in goal_update.model_dump(exclude_unset=True).items():
        setattr(goal, key, value)
    goal.updated_at = _now()
    db.commit()
    db.refresh(goal)
    return SavingsGoalResponse.model_validate(goal)


@app.post(
    "/savings-goals/{goal_id}/contributions",
    operation_id="add_savings_contribution",
    summary="Add money to a savings goal",
    description="Adds a contribution to a goal's saved amount; the goal is marked achieved once it reaches its target.",
    tags=["Savings Goals"],
)
async def add_savings_contribution(goal_id: int, contribution: ContributionCreate, db: Session = Depends(get_db)):
    household_id = _current_household_id(db)
    goal = db.query(SavingsGoal).filter(SavingsGoal.id == goal_id, SavingsGoal.household_id == household_id).first()
    if not goal:
        return {"error": "Savings goal not found"}
    goal.current_amount = round(goal.current_amount + contribution.amount, 2)
    if goal.current_amount >= goal.target_amount:
        goal.status = "achieved"
    goal.updated_at = _now()
    db.commit()
    db.refresh(goal)
    return SavingsGoalResponse.model_validate(goal)


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
