CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(50) NOT NULL UNIQUE,
    email VARCHAR(255) NOT NULL UNIQUE,
    full_name VARCHAR(120) NOT NULL,
    plan VARCHAR(20) NOT NULL DEFAULT 'starter',
    timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_email ON users(email);

CREATE TABLE connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    app_name VARCHAR(80) NOT NULL,
    account_label VARCHAR(200) NOT NULL,
    auth_type VARCHAR(20) NOT NULL DEFAULT 'oauth2',
    status VARCHAR(20) NOT NULL DEFAULT 'active',
    scopes TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_used_at DATETIME
);
CREATE INDEX idx_connections_user_id ON connections(user_id);
CREATE INDEX idx_connections_app_status ON connections(app_name, status);

CREATE TABLE workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name VARCHAR(200) NOT NULL,
    description TEXT,
    trigger_type VARCHAR(20) NOT NULL,
    trigger_config TEXT,
    status VARCHAR(20) NOT NULL DEFAULT 'draft',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_workflows_user_id ON workflows(user_id);
CREATE INDEX idx_workflows_status ON workflows(status);

CREATE TABLE workflow_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id),
    position INTEGER NOT NULL,
    app_name VARCHAR(80) NOT NULL,
    action VARCHAR(120) NOT NULL,
    connection_id INTEGER REFERENCES connections(id),
    config TEXT,
    async BOOLEAN NOT NULL DEFAULT 0,
    retry_limit INTEGER NOT NULL DEFAULT 2,
    timeout_seconds INTEGER NOT NULL DEFAULT 60,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_workflow_steps_workflow_id ON workflow_steps(workflow_id, position);
CREATE INDEX idx_workflow_steps_connection_id ON workflow_steps(connection_id);

CREATE TABLE workflow_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id),
    triggered_by VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'queued',
    started_at DATETIME,
    finished_at DATETIME,
    duration_ms INTEGER,
    metadata TEXT,
    error_message TEXT
);
CREATE INDEX idx_workflow_runs_workflow_id ON workflow_runs(workflow_id);
CREATE INDEX idx_workflow_runs_status_started ON workflow_runs(status, started_at);

CREATE TABLE step_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES workflow_runs(id),
    step_id INTEGER NOT NULL REFERENCES workflow_steps(id),
    status VARCHAR(20) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    duration_ms INTEGER,
    output_summary TEXT,
    error_message TEXT,
    executed_at DATETIME
);
CREATE INDEX idx_step_results_run_id ON step_results(run_id);
CREATE INDEX idx_step_results_step_id ON step_results(step_id);

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id),
    cron_expression VARCHAR(100) NOT NULL,
    timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
    is_enabled BOOLEAN NOT NULL DEFAULT 1,
    next_run_at DATETIME,
    notes TEXT
);
CREATE INDEX idx_schedules_workflow_id ON schedules(workflow_id);
CREATE INDEX idx_schedules_enabled ON schedules(is_enabled);
