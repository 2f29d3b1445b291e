import os
from datetime import datetime, timedelta
from typing import List, Optional

from fastapi import Body, Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, create_engine, func
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

DATABASE_PATH = os.getenv("DATABASE_PATH", "sqlite:///xxxx.db")

engine = create_engine(
    DATABASE_PATH,
    connect_args={"check_same_thread": False},
)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()

CURRENT_USER_ID = 1

VALID_WORKFLOW_STATUSES = ["active", "paused", "draft", "archived"]
VALID_TRIGGER_TYPES = ["schedule", "webhook", "app_event", "manual"]
VALID_CONNECTION_STATUSES = ["active", "expired", "revoked"]


# ==================== Database Models ====================

class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(50), nullable=False, unique=True)
    email = Column(String(255), nullable=False, unique=True)
    full_name = Column(String(120), nullable=False)
    plan = Column(String(20), nullable=False, default="starter")
    timezone = Column(String(64), nullable=False, default="UTC")
    created_at = Column(DateTime, default=datetime.utcnow)

    workflows = relationship("Workflow", back_populates="owner")
    connections = relationship("Connection", back_populates="owner")


class Connection(Base):
    __tablename__ = "connections"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    app_name = Column(String(80), nullable=False)
    account_label = Column(String(200), nullable=False)
    auth_type = Column(String(20), nullable=False, default="oauth2")
    status = Column(String(20), nullable=False, default="active")
    scopes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    last_used_at = Column(DateTime)

    owner = relationship("User", back_populates="connections")


class Workflow(Base):
    __tablename__ = "workflows"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    name = Column(String(200), nullable=False)
    description = Column(Text)
    trigger_type = Column(String(20), nullable=False)
    trigger_config = Column(Text)
    status = Column(String(20), nullable=False, default="draft")
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)

    owner = relationship("User", back_populates="workflows")
    steps = relationship("WorkflowStep", back_populates="workflow", cascade="all, delete-orphan")
    runs = relationship("WorkflowRun", back_populates="workflow", cascade="all, delete-orphan")
    schedules = relationship("Schedule", back_populates="workflow", cascade="all, delete-orphan")


class WorkflowStep(Base):
    __tablename__ = "workflow_steps"

    id = Column(Integer, primary_key=True, autoincrement=True)
    workflow_id = Column(Integer, ForeignKey("workflows.id"), nullable=False)
    position = Column(Integer, nullable=False)
    app_name = Column(String(80), nullable=False)
    action = Column(String(120), nullable=False)
    connection_id = Column(Integer, ForeignKey("connections.id"), nullable=True)
    config = Column(Text)
    is_async = Column("async", Boolean, nullable=False, default=False)
    retry_limit = Column(Integer, nullable=False, default=2)
    timeout_seconds = Column(Integer, nullable=False, default=60)
    created_at = Column(DateTime, default=datetime.utcnow)

    workflow = relationship("Workflow", back_populates="steps")


class WorkflowRun(Base):
    __tablename__ = "workflow_runs"

    id = Column(Integer, primary_key=True, autoincrement=True)
    workflow_id = Column(Integer, ForeignKey("workflows.id"), nullable=False)
    triggered_by = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False, default="queued")
    started_at = Column(DateTime)
    finished_at = Column(DateTime)
    duration_ms = Column(Integer)
    run_metadata = Column("metadata", Text)
    error_message = Column(Text)

    workflow = relationship("Workflow", back_populates="runs")
    step_results = relationship("StepResult", back_populates="run", cascade="all, delete-orphan")


class StepResult(Base):
    __tablename__ = "step_results"

    id = Column(Integer, primary_key=True, autoincrement=True)
    run_id = Column(Integer, ForeignKey("workflow_runs.id"), nullable=False)
    step_id = Column(Integer, ForeignKey("workflow_steps.id"), nullable=False)
    status = Column(String(20), nullable=False)
    attempts = Column(Integer, nullable=False, default=1)
    duration_ms = Column(Integer)
    output_summary = Column(Text)
    error_message = Column(Text)
    executed_at = Column(DateTime)

    run = relationship("WorkflowRun", back_populates="step_results")


class Schedule(Base):
    __tablename__ = "schedules"

    id = Column(Integer, primary_key=True, autoincrement=True)
    workflow_id = Column(Integer, ForeignKey("workflows.id"), nullable=False)
    cron_expression = Column(String(100), nullable=False)
    timezone = Column(String(64), nullable=False, default="UTC")
    is_enabled = Column(Boolean, nullable=False, default=True)
    next_run_at = Column(DateTime)
    notes = Column(Text)

    workflow = relationship("Workflow", back_populates="schedules")


Base.metadata.create_all(bind=engine)


# ==================== Pydantic Models ====================

class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    full_name: str
    plan: str
    timezone: str
    created_at: Optional[datetime] = None


class ConnectionResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    app_name: str
    account_label: str
    auth_type: str
    status: str
    scopes: Optional[str] = None
    created_at: Optional[datetime] = None
    last_used_at: Optional[datetime] = None


class ConnectionUpdate(BaseModel):
    account_label: Optional[str] = Field(None, description="New display label for the connected account")
    status: Optional[str] = Field(None, description="Connection status: active, expired or revoked")


class WorkflowResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    description: Optional[str] = None
    trigger_type: str
    trigger_config: Optional[str] = None
    status: str
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None


class WorkflowCreate(BaseModel):
    name: str = Field(..., description="Workflow name")
    description: Optional[str] = Field(None, description="What the workflow does")
    trigger_type: str = Field(..., description="Trigger type: schedule, webhook, app_event or manual")
    trigger_config: Optional[str] = Field(None, description="Trigger configuration as a JSON string")
    status: str = Field("draft", description="Initial status: draft or active")


class WorkflowUpdate(BaseModel):
    name: Optional[str] = Field(None, description="New workflow name")
    description: Optional[str] = Field(None, description="New description")
    trigger_type: Optional[str] = Field(None, description="Trigger type: schedule, webhook, app_event or manual")
    trigger_config: Optional[str] = Field(None, description="Trigger configuration as a JSON string")
    status: Optional[str] = Field(None, description="Workflow status: active, paused, draft or archived")


class StepResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    workflow_id: int
    position: int
    app_name: str
    action: str
    connection_id: Optional[int] = None
    config: Optional[str] = None
    is_async: bool = Field(False, alias="async")
    retry_limit: int
    timeout_seconds: int
    created_at: Optional[datetime] = None


class StepCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    app_name: str = Field(..., description="App the step calls, e.g. Slack, Gmail, HubSpot, Filter")
    action: str = Field(..., description="Action to perform, e.g. 'Send channel message'")
    connection_id: Optional[int] = Field(None, description="ID of one of your connections used to authenticate the step")
    config: Optional[str] = Field(None, description="Step configuration as a JSON string")
    position: Optional[int] = Field(None, description="1-based position; appended after the last step when omitted")
    is_async: bool = Field(False, alias="async", description="Run the step asynchronously without blocking later steps")
    retry_limit: int = Field(2, description="How many times a failed step is retried")
    timeout_seconds: int = Field(60, description="Step timeout in seconds")


class StepUpdate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    action: Optional[str] = Field(None, description="Action to perform")
    connection_id: Optional[int] = Field(None, description="ID of one of your connections")
    config: Optional[str] = Field(None, description="Step configuration as a JSON string")
    position: Optional[int] = Field(None, description="1-based position within the workflow")
    is_async: Optional[bool] = Field(None, alias="async", description="Run the step asynchronously")
    retry_limit: Optional[int] = Field(None, description="How many times a failed step is retried")
    timeout_seconds: Optional[int] = Field(None, description="Step timeout in seconds")


class WorkflowRunResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    workflow_id: int
    triggered_by: str
    status: str
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    duration_ms: Optional[int] = None
    run_metadata: Optional[str] = Field(None, alias="metadata")
    error_message: Optional[str] = None


class WorkflowRunCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    run_metadata: Optional[str] = Field(None, alias="metadata", description="JSON text stored with the run, e.g. a note or input payload")


class StepResultResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: int
    step_id: int
    step_position: Optional[int] = None
    app_name: Optional[str] = None
    action: Optional[str] = None
    status: str
    attempts: int
    duration_ms: Optional[int] = None
    output_summary: Optional[str] = None
    error_message: Optional[str] = None
    executed_at: Optional[datetime] = None


class WorkflowStatsResponse(BaseModel):
    workflow_id: int
    name: str
    total_runs: int
    succeeded_runs: int
    failed_runs: int
    cancelled_runs: int
    running_runs: int
    avg_succeeded_duration_ms: Optional[float] = None
    last_run_at: Optional[datetime] = None


class ScheduleResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    workflow_id: int
    cron_expression: str
    timezone: str
    is_enabled: bool
    next_run_at: Optional[datetime] = None
    notes: Optional[str] = None


class ScheduleCreate(BaseModel):
    cron_expression: str = Field(..., description="Five-field cron expression, e.g. '0 8 * * 1'")
    timezone: str = Field("UTC", description="IANA timezone name")
    is_enabled: bool = Field(True, description="Whether the schedule fires")
    notes: Optional[str] = Field(None, description="Free-text notes")


class ScheduleUpdate(BaseModel):
    cron_expression: Optional[str] = Field(None, description="Five-field cron expression")
    timezone: Optional[str] = Field(None, description="IANA timezone name")
    is_enabled: Optional[bool] = Field(None, description="Enable or disable the schedule")
    notes: Optional[str] = Field(None, description="Free-text notes")


# ==================== App Setup ====================

app = FastAPI(
    title="Workflow Automation API",
    description="API for building and operating multi-step workflows that connect apps",
    version="1.0.0",
)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_user_workflow(db: Session, workflow_id: int):
    return db.query(Workflow).filter(Workflow.id == workflow_id, Workflow.user_id == CURRENT_USER_ID).first()


def run_to_response(run: WorkflowRun) -> WorkflowRunResponse:
    return WorkflowRunResponse(
        id=run.id,
        workflow_id=run.workflow_id,
        triggered_by=run.triggered_by,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
        run_metadata=run.run_metadata,
        error_message=run.error_message,
    )


# ==================== Users ====================

@app.get(
    "/users/me",
    operation_id="get_current_user",
    summary="Get current user profile",
    description="Retrieve the profile of the logged-in user including plan and timezone.",
    tags=["Users"],
)
async def get_current_user(db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "User not found"}
    return UserResponse.model_validate(user)


# ==================== Connections ====================

@app.get(
    "/connections",
    response_model=List[ConnectionResponse],
    operation_id="list_connections",
    summary="List app connections",
    description="List your connected app accounts, optionally filtered by app name or status (active, expired, revoked).",
    tags=["Connections"],
)
async def list_connections(
    app_name: Optional[str] = Query(None, description="Filter by app name, e.g. Slack"),
    status: Optional[str] = Query(None, description="Filter by status: active, expired or revoked"),
    db: Session = Depends(get_db),
):
    query = db.query(Connection).filter(Connection.user_id == CURRENT_USER_ID)
    if app_name:
        query = query.filter(Connection.app_name.ilike(app_name))
    if status:
        query = query.filter(Connection.status == status)
    return query.order_by(Connection.id).all()


@app.get(
    "/connections/{connection_id}",
    operation_id="get_connection",
    summary="Get connection details",
    description="Retrieve one of your app connections by ID.",
    tags=["Connections"],
)
async def get_connection(
    connection_id: int = Path(..., description="Connection ID"),
    db: Session = Depends(get_db),
):
    connection = db.query(Connection).filter(
        Connection.id == connection_id, Connection.user_id == CURRENT_USER_ID
    ).first()
    if not connection:
        return {"error": "Connection not found"}
    return ConnectionResponse.model_validate(connection)


@app.patch(
    "/connections/{connection_id}",
    operation_id="update_connection",
    summary="Update a connection",
    description="Rename a connection or change its status, e.g. revoke an account you no longer use.",
    tags=["Connections"],
)
async def update_connection(
    connection_data: ConnectionUpdate,
    connection_id: int = Path(..., description="Connection ID"),
    db: Session = Depends(get_db),
):
    connection = db.query(Connection).filter(
        Connection.id == connection_id, Connection.user_id == CURRENT_USER_ID
    ).first()
    if not connection:
        return {"error": "Connection not found"}
    if connection_data.status is not None and connection_data.status not in VALID_CONNECTION_STATUSES:
        return {"error": f"Invalid status. Must be one of: {', '.join(VALID_CONNECTION_STATUSES)}"}
    if connection_data.account_label is not None:
        connection.account_label = connection_data.account_label
    if connection_data.status is not None:
        connection.status = connection_data.status
    db.commit()
    db.refresh(connection)
    return ConnectionResponse.model_validate(connection)


@app.get(
    "/connections/{connection_id}/steps",
    operation_id="list_connection_steps",
    summary="List steps using a connection",
    description="List the workflow steps (across all your workflows) that authenticate with the given connection.",
    tags=["Connections"],
)
async def list_connection_steps(
    connection_id: int = Path(..., description="Connection ID"),
    db: Session = Depends(get_db),
):
    connection = db.query(Connection).filter(
        Connection.id == connection_id, Connection.user_id == CURRENT_USER_ID
    ).first()
    if not connection:
        return {"error": "Connection not found"}
    steps = (
        db.query(WorkflowStep)
        .join(Workflow, WorkflowStep.workflow_id == Workflow.id)
        .filter(WorkflowStep.connection_id == connection_id, Workflow.user_id == CURRENT_USER_ID)
        .order_by(WorkflowStep.workflow_id, WorkflowStep.position)
        .all()
    )
    return [StepResponse.model_validate(s) for s in steps]


# ==================== Workflows ====================

@app.get(
    "/workflows",
    response_model=List[WorkflowResponse],
    operation_id="list_workflows",
    summary="List workflows",
    description="List your workflows with optional filters on status, trigger type and a name search.",
    tags=["Workflows"],
)
async def list_workflows(
    status: Optional[str] = Query(None, description="Filter by status: active, paused, draft or archived"),
    trigger_type: Optional[str] = Query(None, description="Filter by trigger type: schedule, webhook, app_event, manual"),
    search: Optional[str] = Query(None, description="Case-insensitive substring match on the workflow name"),
    db: Session = Depends(get_db),
):
    query = db.query(Workflow).filter(Workflow.user_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Workflow.status == status)
    if trigger_type:
        query = query.filter(Workflow.trigger_type == trigger_type)
    if search:
        query = query.filter(Workflow.name.ilike(f"%{search}%"))
    return query.order_by(Workflow.id).all()


@app.get(
    "/workflows/{workflow_id}",
    operation_id="get_workflow",
    summary="Get workflow details",
    description="Retrieve one of your workflows by ID, including trigger configuration and status.",
    tags=["Workflows"],
)
async def get_workflow(
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    return WorkflowResponse.model_validate(workflow)


@app.post(
    "/workflows",
    operation_id="create_workflow",
    summary="Create a workflow",
    description="Create a new workflow owned by you. Add steps and schedules afterwards.",
    tags=["Workflows"],
)
async def create_workflow(workflow_data: WorkflowCreate, db: Session = Depends(get_db)):
    if workflow_data.trigger_type not in VALID_TRIGGER_TYPES:
        return {"error": f"Invalid trigger_type. Must be one of: {', '.join(VALID_TRIGGER_TYPES)}"}
    if workflow_data.status not in ["draft", "active"]:
        return {"error": "New workflows must start as draft or active"}
    now = datetime.utcnow()
    workflow = Workflow(
        user_id=CURRENT_USER_ID,
        name=workflow_data.name,
        description=workflow_data.description,
        trigger_type=workflow_data.trigger_type,
        trigger_config=workflow_data.trigger_config,
        status=workflow_data.status,
        created_at=now,
        updated_at=now,
    )
    db.add(workflow)
    db.commit()
    db.refresh(workflow)
    return WorkflowResponse.model_validate(workflow)


@app.put(
    "/workflows/{workflow_id}",
    operation_id="update_workflow",
    summary="Update a workflow",
    description="Update a workflow's name, description, trigger or status (active, paused, draft, archived).",
    tags=["Workflows"],
)
async def update_workflow(
    workflow_data: WorkflowUpdate,
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    if workflow_data.status is not None and workflow_data.status not in VALID_WORKFLOW_STATUSES:
        return {"error": f"Invalid status. Must be one of: {', '.join(VALID_WORKFLOW_STATUSES)}"}
    if workflow_data.trigger_type is not None and workflow_data.trigger_type not in VALID_TRIGGER_TYPES:
        return {"error": f"Invalid trigger_type. Must be one of: {', '.join(VALID_TRIGGER_TYPES)}"}
    update_fields = workflow_data.model_dump(exclude_unset=True)
    for field, value in update_fields.items():
        if value is not None:
            setattr(workflow, field, value)
    workflow.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(workflow)
    return WorkflowResponse.model_validate(workflow)


@app.delete(
    "/workflows/{workflow_id}",
    operation_id="delete_workflow",
    summary="Delete a workflow",
    description="Permanently delete a workflow together with its steps, schedules and run history.",
    tags=["Workflows"],
)
async def delete_workflow(
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    step_ids = [s.id for s in workflow.steps]
    if step_ids:
        db.query(StepResult).filter(StepResult.step_id.in_(step_ids)).delete(synchronize_session=False)
    db.delete(workflow)
    db.commit()
    return {"message": "Workflow deleted successfully", "workflow_id": workflow_id}


@app.get(
    "/workflows/{workflow_id}/stats",
    operation_id="get_workflow_stats",
    summary="Get workflow run statistics",
    description="Run counts by status and the average duration of succeeded runs for one of your workflows.",
    tags=["Workflows"],
)
async def get_workflow_stats(
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    runs = db.query(WorkflowRun).filter(WorkflowRun.workflow_id == workflow_id).all()
    succeeded = [r for r in runs if r.status == "succeeded"]
    durations = [r.duration_ms for r in succeeded if r.duration_ms is not None]
    avg_duration = round(sum(durations) / len(durations), 1) if durations else None
    started = [r.started_at for r in runs if r.started_at is not None]
    return WorkflowStatsResponse(
        workflow_id=workflow.id,
        name=workflow.name,
        total_runs=len(runs),
        succeeded_runs=len(succeeded),
        failed_runs=len([r for r in runs if r.status == "failed"]),
        cancelled_runs=len([r for r in runs if r.status == "cancelled"]),
        running_runs=len([r for r in runs if r.status in ("running", "queued")]),
        avg_succeeded_duration_ms=avg_duration,
        last_run_at=max(started) if started else None,
    )


# ==================== Workflow Steps ====================

@app.get(
    "/workflows/{workflow_id}/steps",
    operation_id="list_workflow_steps",
    summary="List steps of a workflow",
    description="List the ordered steps of one of your workflows with app, action, connection and retry settings.",
    tags=["Steps"],
)
async def list_workflow_steps(
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    steps = (
        db.query(WorkflowStep)
        .filter(WorkflowStep.workflow_id == workflow_id)
        .order_by(WorkflowStep.position)
        .all()
    )
    return [StepResponse.model_validate(s) for s in steps]


@app.post(
    "/workflows/{workflow_id}/steps",
    operation_id="create_workflow_step",
    summary="Add a step to a workflow",
    description="Add a step to one of your workflows; it is appended after the last step unless a position is given.",
    tags=["Steps"],
)
async def create_workflow_step(
    step_data: StepCreate,
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    if step_data.connection_id is not None:
        connection = db.query(Connection).filter(
            Connection.id == step_data.connection_id, Connection.user_id == CURRENT_USER_ID
        ).first()
        if not connection:
            return {"error": "Connection not found"}
    max_position = db.query(func.max(WorkflowStep.position)).filter(WorkflowStep.workflow_id == workflow_id).scalar() or 0
    position = step_data.position if step_data.position is not None else max_position + 1
    if position <= max_position:
        existing = db.query(WorkflowStep).filter(
            WorkflowStep.workflow_id == workflow_id, WorkflowStep.position >= position
        ).all()
        for s in existing:
            s.position = s.position + 1
    step = WorkflowStep(
        workflow_id=workflow_id,
        position=position,
        app_name=step_data.app_name,
        action=step_data.action,
        connection_id=step_data.connection_id,
        config=step_data.config,
        is_async=step_data.is_async,
        retry_limit=step_data.retry_limit,
        timeout_seconds=step_data.timeout_seconds,
        created_at=datetime.utcnow(),
    )
    db.add(step)
    workflow.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(step)
    return StepResponse.model_validate(step)


@app.patch(
    "/steps/{step_id}",
    operation_id="update_workflow_step",
    summary="Update a workflow step",
    description="Change a step's action, connection, config, async flag, retry limit or timeout.",
    tags=["Steps"],
)
async def update_workflow_step(
    step_data: StepUpdate,
    step_id: int = Path(..., description="Step ID"),
    db: Session = Depends(get_db),
):
    step = (
        db.query(WorkflowStep)
        .join(Workflow, WorkflowStep.workflow_id == Workflow.id)
        .filter(WorkflowStep.id == step_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not step:
        return {"error": "Step not found"}
    if step_data.connection_id is not None:
        connection = db.query(Connection).filter(
            Connection.id == step_data.connection_id, Connection.user_id == CURRENT_USER_ID
        ).first()
        if not connection:
            return {"error": "Connection not found"}
    update_fields = step_data.model_dump(exclude_unset=True)
    for field, value in update_fields.items():
        if value is not None:
            setattr(step, field, value)
    step.workflow.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(step)
    return StepResponse.model_validate(step)


@app.delete(
    "/steps/{step_id}",
    operation_id="delete_workflow_step",
    summary="Delete a workflow step",
    description="Remove a step from its workflow; later steps move up one position.",
    tags=["Steps"],
)
async def delete_workflow_step(
    step_id: int = Path(..., description="Step ID"),
    db: Session = Depends(get_db),
):
    step = (
        db.query(WorkflowStep)
        .join(Workflow, WorkflowStep.workflow_id == Workflow.id)
        .filter(WorkflowStep.id == step_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not step:
        return {"error": "Step not found"}
    workflow_id = step.workflow_id
    removed_position = step.position
    db.query(StepResult).filter(StepResult.step_id == step_id).delete(synchronize_session=False)
    db.delete(step)
    later_steps = db.query(WorkflowStep).filter(
        WorkflowStep.workflow_id == workflow_id, WorkflowStep.position > removed_position
    ).all()
    for s in later_steps:
        s.position = s.position - 1
    db.commit()
    return {"message": "Step deleted successfully", "step_id": step_id}


# ==================== Runs ====================

@app.get(
    "/runs",
    response_model=List[WorkflowRunResponse],
    operation_id="list_workflow_runs",
    summary="List workflow runs",
    description="List runs of your workflows, newest first, filtered by workflow, status or the last N days.",
    tags=["Runs"],
)
async def list_workflow_runs(
    workflow_id: Optional[int] = Query(None, description="Only runs of this workflow"),
    status: Optional[str] = Query(None, description="Filter by status: queued, running, succeeded, failed, cancelled"),
    since_days: Optional[int] = Query(None, description="Only runs started within the last N days"),
    limit: int = Query(50, description="Maximum number of runs to return"),
    db: Session = Depends(get_db),
):
    query = db.query(WorkflowRun).join(Workflow, WorkflowRun.workflow_id == Workflow.id).filter(
        Workflow.user_id == CURRENT_USER_ID
    )
    if workflow_id is not None:
        query = query.filter(WorkflowRun.workflow_id == workflow_id)
    if status:
        query = query.filter(WorkflowRun.status == status)
    if since_days is not None:
        cutoff = datetime.utcnow() - timedelta(days=since_days)
        query = query.filter(WorkflowRun.started_at >= cutoff)
    runs = query.order_by(WorkflowRun.started_at.desc(), WorkflowRun.id.desc()).limit(limit).all()
    return [run_to_response(r) for r in runs]


@app.get(
    "/runs/{run_id}",
    operation_id="get_workflow_run",
    summary="Get run details",
    description="Retrieve one run of your workflows, including its metadata JSON and error message.",
    tags=["Runs"],
)
async def get_workflow_run(
    run_id: int = Path(..., description="Run ID"),
    db: Session = Depends(get_db),
):
    run = (
        db.query(WorkflowRun)
        .join(Workflow, WorkflowRun.workflow_id == Workflow.id)
        .filter(WorkflowRun.id == run_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not run:
        return {"error": "Run not found"}
    return run_to_response(run)


@app.post(
    "/workflows/{workflow_id}/runs",
    operation_id="trigger_workflow_run",
    summary="Trigger a manual run",
    description="Queue a manual run of an active or draft workflow, optionally with metadata JSON text.",
    tags=["Runs"],
)
async def trigger_workflow_run(
    run_data: WorkflowRunCreate = Body(None),
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    if workflow.status not in ["active", "draft"]:
        return {"error": f"Cannot run a workflow that is {workflow.status}"}
    run = WorkflowRun(
        workflow_id=workflow_id,
        triggered_by="manual",
        status="queued",
        started_at=datetime.utcnow(),
        run_metadata=run_data.run_metadata if run_data else None,
    )
    db.add(run)
    db.commit()
    db.refresh(run)
    return run_to_response(run)


@app.post(
    "/runs/{run_id}/cancel",
    operation_id="cancel_workflow_run",
    summary="Cancel a run",
    description="Cancel a queued or running run of one of your workflows.",
    tags=["Runs"],
)
async def cancel_workflow_run(
    run_id: int = Path(..., description="Run ID"),
    db: Session = Depends(get_db),
):
    run = (
        db.query(WorkflowRun)
        .join(Workflow, WorkflowRun.workflow_id == Workflow.id)
        .filter(WorkflowRun.id == run_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not run:
        return {"error": "Run not found"}
    if run.status not in ["queued", "running"]:
        return {"error": f"Only queued or running runs can be cancelled (run is {run.status})"}
    now = datetime.utcnow()
    run.status = "cancelled"
    run.finished_at = now
    if run.started_at:
        run.duration_ms = int((now - run.started_at).total_seconds() * 1000)
    run.error_message = "Cancelled by user"
    db.commit()
    db.refresh(run)
    return run_to_response(run)


@app.get(
    "/runs/{run_id}/step-results",
    operation_id="list_run_step_results",
    summary="List step results of a run",
    description="Per-step outcome of a run: status, attempts, duration, output summary and error message.",
    tags=["Runs"],
)
async def list_run_step_results(
    run_id: int = Path(..., description="Run ID"),
    db: Session = Depends(get_db),
):
    run = (
        db.query(WorkflowRun)
        .join(Workflow, WorkflowRun.workflow_id == Workflow.id)
        .filter(WorkflowRun.id == run_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not run:
        return {"error": "Run not found"}
    rows = (
        db.query(StepResult, WorkflowStep)
        .outerjoin(WorkflowStep, StepResult.step_id == WorkflowStep.id)
        .filter(StepResult.run_id == run_id)
        .order_by(WorkflowStep.position, StepResult.id)
        .all()
    )
    results = []
    for result, step in rows:
        results.append(
            StepResultResponse(
                id=result.id,
                run_id=result.run_id,
                step_id=result.step_id,
                step_position=step.position if step else None,
                app_name=step.app_name if step else None,
                action=step.action if step else None,
                status=result.status,
                attempts=result.attempts,
                duration_ms=result.duration_ms,
                output_summary=result.output_summary,
                error_message=result.error_message,
                executed_at=result.executed_at,
            )
        )
    return results


# ==================== Schedules ====================

@app.get(
    "/schedules",
    response_model=List[ScheduleResponse],
    operation_id="list_schedules",
    summary="List schedules",
    description="List cron schedules of your workflows, optionally for one workflow or only enabled/disabled ones.",
    tags=["Schedules"],
)
async def list_schedules(
    workflow_id: Optional[int] = Query(None, description="Only schedules of this workflow"),
    is_enabled: Optional[bool] = Query(None, description="Filter by enabled flag"),
    db: Session = Depends(get_db),
):
    query = db.query(Schedule).join(Workflow, Schedule.workflow_id == Workflow.id).filter(
        Workflow.user_id == CURRENT_USER_ID
    )
    if workflow_id is not None:
        query = query.filter(Schedule.workflow_id == workflow_id)
    if is_enabled is not None:
        query = query.filter(Schedule.is_enabled == is_enabled)
    return query.order_by(Schedule.id).all()


@app.get(
    "/schedules/{schedule_id}",
    operation_id="get_schedule",
    summary="Get schedule details",
    description="Retrieve one schedule of your workflows by ID.",
    tags=["Schedules"],
)
async def get_schedule(
    schedule_id: int = Path(..., description="Schedule ID"),
    db: Session = Depends(get_db),
):
    schedule = (
        db.query(Schedule)
        .join(Workflow, Schedule.workflow_id == Workflow.id)
        .filter(Schedule.id == schedule_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not schedule:
        return {"error": "Schedule not found"}
    return ScheduleResponse.model_validate(schedule)


@app.post(
    "/workflows/{workflow_id}/schedules",
    operation_id="create_schedule",
    summary="Add a schedule to a workflow",
    description="Create a cron schedule for one of your workflows.",
    tags=["Schedules"],
)
async def create_schedule(
    schedule_data: ScheduleCreate,
    workflow_id: int = Path(..., description="Workflow ID"),
    db: Session = Depends(get_db),
):
    workflow = get_user_workflow(db, workflow_id)
    if not workflow:
        return {"error": "Workflow not found"}
    if len(schedule_data.cron_expression.split()) != 5:
        return {"error": "cron_expression must have exactly 5 fields"}
    schedule = Schedule(
        workflow_id=workflow_id,
        cron_expression=schedule_data.cron_expression,
        timezone=schedule_data.timezone,
        is_enabled=schedule_data.is_enabled,
        notes=schedule_data.notes,
    )
    db.add(schedule)
    db.commit()
    db.refresh(schedule)
    return ScheduleResponse.model_validate(schedule)


@app.put(
    "/schedules/{schedule_id}",
    operation_id="update_schedule",
    summary="Update a schedule",
    description="Change a schedule's cron expression, timezone, notes, or enable/disable it.",
    tags=["Schedules"],
)
async def update_schedule(
    schedule_data: ScheduleUpdate,
    schedule_id: int = Path(..., description="Schedule ID"),
    db: Session = Depends(get_db),
):
    schedule = (
        db.query(Schedule)
        .join(Workflow, Schedule.workflow_id == Workflow.id)
        .filter(Schedule.id == schedule_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not schedule:
        return {"error": "Schedule not found"}
    if schedule_data.cron_expression is not None and len(schedule_data.cron_expression.split()) != 5:
        return {"error": "cron_expression must have exactly 5 fields"}
    update_fields = schedule_data.model_dump(exclude_unset=True)
    for field, value in update_fields.items():
        if value is not None:
            setattr(schedule, field, value)
    if schedule.is_enabled is False:
        schedule.next_run_at = None
    db.commit()
    db.refresh(schedule)
    return ScheduleResponse.model_validate(schedule)


@app.delete(
    "/schedules/{schedule_id}",
    operation_id="delete_schedule",
    summary="Delete a schedule",
    description="Delete one schedule of your workflows; the workflow itself is kept.",
    tags=["Schedules"],
)
async def delete_schedule(
    schedule_id: int = Path(..., description="Schedule ID"),
    db: Session = Depends(get_db),
):
    schedule = (
        db.query(Schedule)
        .join(Workflow, Schedule.workflow_id == Workflow.id)
        .filter(Schedule.id == schedule_id, Workflow.user_id == CURRENT_USER_ID)
        .first()
    )
    if not schedule:
        return {"error": "Schedule not found"}
    db.delete(schedule)
    db.commit()
    return {"message": "Schedule deleted successfully", "schedule_id": schedule_id}


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
