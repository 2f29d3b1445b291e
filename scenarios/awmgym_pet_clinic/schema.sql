CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    full_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    address TEXT,
    preferred_contact TEXT NOT NULL DEFAULT 'email',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_email ON users(email);

CREATE TABLE veterinarians (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    full_name TEXT NOT NULL,
    specialty TEXT NOT NULL,
    license_number TEXT NOT NULL UNIQUE,
    email TEXT,
    phone TEXT,
    years_experience INTEGER,
    accepting_new_patients BOOLEAN NOT NULL DEFAULT 1,
    bio TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_veterinarians_specialty ON veterinarians(specialty);

CREATE TABLE pets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    primary_vet_id INTEGER REFERENCES veterinarians(id),
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    species TEXT NOT NULL,
    breed TEXT,
    sex TEXT,
    date_of_birth DATE,
    weight_kg REAL,
    microchip_id TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    notes TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_pets_owner_id ON pets(owner_id);
CREATE INDEX idx_pets_name ON pets(name);
CREATE INDEX idx_pets_primary_vet_id ON pets(primary_vet_id);

CREATE TABLE appointment_slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vet_id INTEGER NOT NULL REFERENCES veterinarians(id),
    starts_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL DEFAULT 30,
    exam_room TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_appointment_slots_vet_id ON appointment_slots(vet_id);
CREATE INDEX idx_appointment_slots_starts_at ON appointment_slots(starts_at);
CREATE INDEX idx_appointment_slots_status ON appointment_slots(status);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    pet_id INTEGER NOT NULL REFERENCES pets(id),
    vet_id INTEGER NOT NULL REFERENCES veterinarians(id),
    slot_id INTEGER REFERENCES appointment_slots(id),
    scheduled_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL DEFAULT 30,
    visit_type TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL DEFAULT 'scheduled',
    cancellation_reason TEXT,
    visit_notes TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_appointments_owner_id ON appointments(owner_id);
CREATE INDEX idx_appointments_pet_id ON appointments(pet_id);
CREATE INDEX idx_appointments_vet_scheduled ON appointments(vet_id, scheduled_at);
CREATE INDEX idx_appointments_status ON appointments(status);

CREATE TABLE vaccinations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pet_id INTEGER NOT NULL REFERENCES pets(id),
    vet_id INTEGER REFERENCES veterinarians(id),
    vaccine_name TEXT NOT NULL,
    administered_on DATE NOT NULL,
    next_due_date DATE,
    lot_number TEXT,
    manufacturer TEXT,
    notes TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_vaccinations_pet_id ON vaccinations(pet_id);
CREATE INDEX idx_vaccinations_next_due_date ON vaccinations(next_due_date);

CREATE TABLE prescriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pet_id INTEGER NOT NULL REFERENCES pets(id),
    vet_id INTEGER NOT NULL REFERENCES veterinarians(id),
    medication_name TEXT NOT NULL,
    strength TEXT,
    dosage_instructions TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    refills_remaining INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    prescribed_on DATE NOT NULL,
    expires_on DATE,
    last_filled_on DATE,
    refill_status TEXT NOT NULL DEFAULT 'none',
    refill_pickup_method TEXT,
    refill_requested_at TIMESTAMP,
    refill_notes TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_prescriptions_pet_id ON prescriptions(pet_id);
CREATE INDEX idx_prescriptions_status ON prescriptions(status);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_number TEXT NOT NULL UNIQUE,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    pet_id INTEGER REFERENCES pets(id),
    appointment_id INTEGER REFERENCES appointments(id),
    description TEXT NOT NULL,
    total_amount REAL NOT NULL,
    amount_paid REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'unpaid',
    payment_method TEXT,
    issued_on DATE NOT NULL,
    due_on DATE,
    paid_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_invoices_owner_id ON invoices(owner_id);
CREATE INDEX idx_invoices_status ON invoices(status);
CREATE INDEX idx_invoices_pet_id ON invoices(pet_id);
