CREATE TABLE branches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    phone TEXT,
    opening_hours TEXT,
    has_drive_up_window INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_branches_name ON branches(name);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    card_number TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    home_branch_id INTEGER NOT NULL,
    membership_type TEXT NOT NULL DEFAULT 'adult',
    max_loans INTEGER NOT NULL DEFAULT 25,
    max_holds INTEGER NOT NULL DEFAULT 15,
    card_expires_on DATE,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (home_branch_id) REFERENCES branches(id)
);
CREATE INDEX idx_users_home_branch ON users(home_branch_id);
CREATE INDEX idx_users_card_number ON users(card_number);

CREATE TABLE titles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    isbn_13 TEXT NOT NULL UNIQUE,
    edition TEXT,
    format TEXT NOT NULL DEFAULT 'book',
    publisher TEXT,
    publication_year INTEGER,
    genre TEXT,
    page_count INTEGER,
    language TEXT NOT NULL DEFAULT 'English',
    summary TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_titles_title ON titles(title);
CREATE INDEX idx_titles_author ON titles(author);
CREATE INDEX idx_titles_genre ON titles(genre);

CREATE TABLE copies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title_id INTEGER NOT NULL,
    branch_id INTEGER NOT NULL,
    barcode TEXT NOT NULL UNIQUE,
    call_number TEXT,
    shelf_location TEXT,
    status TEXT NOT NULL DEFAULT 'available',
    condition TEXT NOT NULL DEFAULT 'good',
    acquired_on DATE,
    FOREIGN KEY (title_id) REFERENCES titles(id),
    FOREIGN KEY (branch_id) REFERENCES branches(id)
);
CREATE INDEX idx_copies_title ON copies(title_id);
CREATE INDEX idx_copies_branch_status ON copies(branch_id, status);

CREATE TABLE loans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    copy_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    checkout_date DATETIME NOT NULL,
    due_date DATE NOT NULL,
    returned_date DATETIME,
    renewal_count INTEGER NOT NULL DEFAULT 0,
    max_renewals INTEGER NOT NULL DEFAULT 2,
    status TEXT NOT NULL DEFAULT 'active',
    FOREIGN KEY (copy_id) REFERENCES copies(id),
    FOREIGN KEY (user_id) REFERENCES users(id)
);
CREATE INDEX idx_loans_user_status ON loans(user_id, status);
CREATE INDEX idx_loans_copy ON loans(copy_id);
CREATE INDEX idx_loans_due_date ON loans(due_date);

CREATE TABLE holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    pickup_branch_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting',
    placed_at DATETIME NOT NULL,
    ready_until DATE,
    cancelled_at DATETIME,
    notes TEXT,
    FOREIGN KEY (title_id) REFERENCES titles(id),
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (pickup_branch_id) REFERENCES branches(id)
);
CREATE INDEX idx_holds_title_status ON holds(title_id, status);
CREATE INDEX idx_holds_user ON holds(user_id);

CREATE TABLE fines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    loan_id INTEGER,
    amount REAL NOT NULL,
    reason TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL DEFAULT 'unpaid',
    assessed_at DATETIME NOT NULL,
    paid_at DATETIME,
    payment_method TEXT,
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (loan_id) REFERENCES loans(id)
);
CREATE INDEX idx_fines_user_status ON fines(user_id, status);
CREATE INDEX idx_fines_loan ON fines(loan_id);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    title_id INTEGER NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    review_text TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at DATETIME NOT NULL,
    updated_at DATETIME,
    FOREIGN KEY (user_id) REFERENCES users(id),
    FOREIGN KEY (title_id) REFERENCES titles(id)
);
CREATE INDEX idx_reviews_title ON reviews(title_id);
CREATE INDEX idx_reviews_user ON reviews(user_id);
