import os
from datetime import datetime, date, timedelta
from typing import Optional

from fastapi import FastAPI, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import create_engine, Column, Integer, String, Text, Float, Boolean, Date, DateTime, ForeignKey
from sqlalchemy.orm import sessionmaker, declarative_base, Session

DATABASE_PATH = os.getenv("DATABASE_PATH", "sqlite:///pet_clinic.db")

engine = create_engine(DATABASE_PATH, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()

CURRENT_USER_ID = 1

ANIMAL_CLASSES = ["mammal", "bird", "reptile", "amphibian", "fish"]
VISIT_TYPES = ["wellness", "sick", "vaccination", "dental", "surgery", "consultation", "follow_up", "grooming"]
PICKUP_METHODS = ["pickup", "delivery"]
PAYMENT_METHODS = ["credit_card", "debit_card", "cash", "check", "care_credit"]


# ---------------------------------------------------------------------------
# ORM models
# ---------------------------------------------------------------------------

class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    full_name = Column(String, nullable=False)
    email = Column(String, nullable=False, unique=True, index=True)
    phone = Column(String)
    address = Column(String)
    preferred_contact = Column(String, nullable=False, default="email")
    created_at = Column(DateTime, default=datetime.utcnow)


class Veterinarian(Base):
    __tablename__ = "veterinarians"

    id = Column(Integer, primary_key=True, autoincrement=True)
    full_name = Column(String, nullable=False)
    specialty = Column(String, nullable=False, index=True)
    license_number = Column(String, nullable=False, unique=True)
    email = Column(String)
    phone = Column(String)
    years_experience = Column(Integer)
    accepting_new_patients = Column(Boolean, nullable=False, default=True)
    bio = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)


class Pet(Base):
    __tablename__ = "pets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    primary_vet_id = Column(Integer, ForeignKey("veterinarians.id"), index=True)
    name = Column(String, nullable=False, index=True)
    animal_class = Column("class", String, nullable=False)
    species = Column(String, nullable=False)
    breed = Column(String)
    sex = Column(String)
    date_of_birth = Column(Date)
    weight_kg = Column(Float)
    microchip_id = Column(String)
    status = Column(String, nullable=False, default="active")
    notes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class AppointmentSlot(Base):
    __tablename__ = "appointment_slots"

    id = Column(Integer, primary_key=True, autoincrement=True)
    vet_id = Column(Integer, ForeignKey("veterinarians.id"), nullable=False, index=True)
    starts_at = Column(DateTime, nullable=False, index=True)
    duration_minutes = Column(Integer, nullable=False, default=30)
    exam_room = Column(String)
    status = Column(String, nullable=False, default="open", index=True)
    created_at = Column(DateTime, default=datetime.utcnow)


class Appointment(Base):
    __tablename__ = "appointments"

    id = Column(Integer, primary_key=True, autoincrement=True)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    pet_id = Column(Integer, ForeignKey("pets.id"), nullable=False, index=True)
    vet_id = Column(Integer, ForeignKey("veterinarians.id"), nullable=False)
    slot_id = Column(Integer, ForeignKey("appointment_slots.id"))
    scheduled_at = Column(DateTime, nullable=False)
    duration_minutes = Column(Integer, nullable=False, default=30)
    visit_type = Column(String, nullable=False)
    reason = Column(Text)
    status = Column(String, nullable=False, default="scheduled", index=True)
    cancellation_reason = Column(Text)
    visit_notes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)
    updated_at = Column(DateTime, default=datetime.utcnow)


class Vaccination(Base):
    __tablename__ = "vaccinations"

    id = Column(Integer, primary_key=True, autoincrement=True)
    pet_id = Column(Integer, ForeignKey("pets.id"), nullable=False, index=True)
    vet_id = Column(Integer, ForeignKey("veterinarians.id"))
    vaccine_name = Column(String, nullable=False)
    administered_on = Column(Date, nullable=False)
    next_due_date = Column(Date, index=True)
    lot_number = Column(String)
    manufacturer = Column(String)
    notes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)


class Prescription(Base):
    __tablename__ = "prescriptions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    pet_id = Column(Integer, ForeignKey("pets.id"), nullable=False, index=True)
    vet_id = Column(Integer, ForeignKey("veterinarians.id"), nullable=False)
    medication_name = Column(String, nullable=False)
    strength = Column(String)
    dosage_instructions = Column(Text, nullable=False)
    quantity = Column(Integer, nullable=False)
    refills_remaining = Column(Integer, nullable=False, default=0)
    status = Column(String, nullable=False, default="active", index=True)
    prescribed_on = Column(Date, nullable=False)
    expires_on = Column(Date)
    last_filled_on = Column(Date)
    refill_status = Column(String, nullable=False, default="none")
    refill_pickup_method = Column(String)
    refill_requested_at = Column(DateTime)
    refill_notes = Column(Text)
    created_at = Column(DateTime, default=datetime.utcnow)


class Invoice(Base):
    __tablename__ = "invoices"

    id = Column(Integer, primary_key=True, autoincrement=True)
    invoice_number = Column(String, nullable=False, unique=True)
    owner_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    pet_id = Column(Integer, ForeignKey("pets.id"), index=True)
    appointment_id = Column(Integer, ForeignKey("appointments.id"))
    description = Column(Text, nullable=False)
    total_amount = Column(Float, nullable=False)
    amount_paid = Column(Float, nullable=False, default=0)
    status = Column(String, nullable=False, default="unpaid", index=True)
    payment_method = Column(String)
    issued_on = Column(Date, nullable=False)
    due_on = Column(Date)
    paid_at = Column(DateTime)
    created_at = Column(DateTime, default=datetime.utcnow)


Base.metadata.create_all(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


# ---------------------------------------------------------------------------
# Pydantic schemas
# ---------------------------------------------------------------------------

class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    email: str
    phone: Optional[str] = None
    address: Optional[str] = None
    preferred_contact: str
    created_at: Optional[datetime] = None


class UserUpdate(BaseModel):
    full_name: Optional[str] = Field(None, description="Full name of the pet owner")
    email: Optional[str] = Field(None, description="Contact email address")
    phone: Optional[str] = Field(None, description="Contact phone number")
    address: Optional[str] = Field(None, description="Mailing address used for pharmacy deliveries")
    preferred_contact: Optional[str] = Field(None, description="Preferred reminder channel: email, sms or phone")


class VeterinarianResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    specialty: str
    license_number: str
    email: Optional[str] = None
    phone: Optional[str] = None
    years_experience: Optional[int] = None
    accepting_new_patients: bool
    bio: Optional[str] = None


class SlotResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    vet_id: int
    starts_at: datetime
    duration_minutes: int
    exam_room: Optional[str] = None
    status: str


class PetResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    owner_id: int
    primary_vet_id: Optional[int] = None
    name: str
    animal_class: str = Field(..., alias="class")
    species: str
    breed: Optional[str] = None
    sex: Optional[str] = None
    date_of_birth: Optional[date] = None
    weight_kg: Optional[float] = None
    microchip_id: Optional[str] = None
    status: str
    notes: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None


class PetCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(..., description="Pet's name")
    animal_class: str = Field(..., alias="class", description="Animal class: mammal, bird, reptile, amphibian or fish")
    species: str = Field(..., description="Species, e.g. Dog, Cat, Rabbit, Sun Conure, Leopard Gecko")
    breed: Optional[str] = Field(None, description="Breed or morph, if known")
    sex: Optional[str] = Field(None, description="male or female")
    date_of_birth: Optional[date] = Field(None, description="Birth or hatch date (YYYY-MM-DD)")
    weight_kg: Optional[float] = Field(None, description="Current weight in kilograms")
    microchip_id: Optional[str] = Field(None, description="15-digit microchip number")
    primary_vet_id: Optional[int] = Field(None, description="ID of the pet's primary veterinarian")
    notes: Optional[str] = Field(None, description="Care notes for the clinic")


class PetUpdate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: Optional[str] = Field(None, description="Pet's name")
    animal_class: Optional[str] = Field(None, alias="class", description="Animal class: mammal, bird, reptile, amphibian or fish")
    species: Optional[str] = Field(None, description="Species")
    breed: Optional[str] = Field(None, description="Breed or morph")
    sex: Optional[str] = Field(None, description="male or female")
    date_of_birth: Optional[date] = Field(None, description="Birth or hatch date (YYYY-MM-DD)")
    weight_kg: Optional[float] = Field(None, description="Current weight in kilograms")
    microchip_id: Optional[str] = Field(None, description="15-digit microchip number")
    primary_vet_id: Optional[int] = Field(None, description="ID of the pet's primary veterinarian")
    notes: Optional[str] = Field(None, description="Care notes for the clinic")


class AppointmentResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    pet_id: int
    vet_id: int
    slot_id: Optional[int] = None
    scheduled_at: datetime
    duration_minutes: int
    visit_type: str
    reason: Optional[str] = None
    status: str
    cancellation_reason: Optional[str] = None
    visit_notes: Optional[str] = None
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None


class AppointmentCreate(BaseModel):
    slot_id: int = Field(..., description="ID of an open appointment slot (see list_open_slots)")
    pet_id: int = Field(..., description="ID of the pet to be seen")
    visit_type: str = Field(..., description="wellness, sick, vaccination, dental, surgery, consultation, follow_up or grooming")
    reason: Optional[str] = Field(None, description="Short reason for the visit")


class AppointmentReschedule(BaseModel):
    slot_id: int = Field(..., description="ID of the open slot to move the appointment to")
    reason: Optional[str] = Field(None, description="Updated reason for the visit, if it changed")


class AppointmentCancel(BaseModel):
    cancellation_reason: Optional[str] = Field(None, description="Why the appointment is being cancelled")


class VaccinationResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pet_id: int
    vet_id: Optional[int] = None
    vaccine_name: str
    administered_on: date
    next_due_date: Optional[date] = None
    lot_number: Optional[str] = None
    manufacturer: Optional[str] = None
    notes: Optional[str] = None


class PrescriptionResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pet_id: int
    vet_id: int
    medication_name: str
    strength: Optional[str] = None
    dosage_instructions: str
    quantity: int
    refills_remaining: int
    status: str
    prescribed_on: date
    expires_on: Optional[date] = None
    last_filled_on: Optional[date] = None
    refill_status: str
    refill_pickup_method: Optional[str] = None
    refill_requested_at: Optional[datetime] = None
    refill_notes: Optional[str] = None


class RefillRequestCreate(BaseModel):
    pickup_method: str = Field("pickup", description="pickup (at the clinic pharmacy) or delivery (mailed to your address)")
    notes: Optional[str] = Field(None, description="Notes for the pharmacy team")


class InvoiceResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_number: str
    owner_id: int
    pet_id: Optional[int] = None
    appointment_id: Optional[int] = None
    description: str
    total_amount: float
    amount_paid: float
    balance_due: float = 0.0
    status: str
    payment_method: Optional[str] = None
    issued_on: date
    due_on: Optional[date] = None
    paid_at: Optional[datetime] = None


class PaymentCreate(BaseModel):
    amount: float = Field(..., description="Amount to pay in USD")
    payment_method: str = Field(..., description="credit_card, debit_card, cash, check or care_credit")


def invoice_to_response(invoice: Invoice) -> InvoiceResponse:
    response = InvoiceResponse.model_validate(invoice)
    response.balance_due = round((invoice.total_amount or 0) - (invoice.amount_paid or 0), 2)
    if invoice.status == "void":
        response.balance_due = 0.0
    return response


app = FastAPI(
    title="Alder Creek Veterinary Hospital - PawPortal API",
    description="Pet owner portal: pets, appointments, vaccinations, prescriptions and billing.",
    version="1.0.0",
)


# ---------------------------------------------------------------------------
# Owner profile
# ---------------------------------------------------------------------------

@app.get(
    "/users/me",
    operation_id="get_my_profile",
    summary="Get my owner profile",
    description="Return the logged-in pet owner's contact details and reminder preferences.",
    tags=["Profile"],
)
async def get_my_profile(db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "User not found"}
    return UserResponse.model_validate(user)


@app.patch(
    "/users/me",
    operation_id="update_my_profile",
    summary="Update my owner profile",
    description="Update the logged-in owner's name, email, phone, mailing address or preferred contact channel.",
    tags=["Profile"],
)
async def update_my_profile(payload: UserUpdate, db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == CURRENT_USER_ID).first()
    if not user:
        return {"error": "User not found"}
    updates = payload.model_dump(exclude_unset=True)
    if "preferred_contact" in updates and updates["preferred_contact"] not in ["email", "sms", "phone"]:
        return {"error": "preferred_contact must be one of: email, sms, phone"}
    for key, value in updates.items():
        setattr(user, key, value)
    db.commit()
    db.refresh(user)
    return UserResponse.model_validate(user)


# ---------------------------------------------------------------------------
# Veterinarians and availability
# ---------------------------------------------------------------------------

@app.get(
    "/veterinarians",
    operation_id="list_veterinarians",
    summary="List clinic veterinarians",
    description="List the clinic's veterinarians, optionally filtered by name, specialty or whether they accept new patients.",
    tags=["Veterinarians"],
)
async def list_veterinarians(
    name: Optional[str] = Query(None, description="Partial name match, e.g. 'Kim'"),
    specialty: Optional[str] = Query(None, description="Partial specialty match, e.g. 'Dentistry' or 'Exotics'"),
    accepting_new_patients: Optional[bool] = Query(None, description="Only vets that are (true) or are not (false) accepting new patients"),
    db: Session = Depends(get_db),
):
    query = db.query(Veterinarian)
    if name:
        query = query.filter(Veterinarian.full_name.ilike(f"%{name}%"))
    if specialty:
        query = query.filter(Veterinarian.specialty.ilike(f"%{specialty}%"))
    if accepting_new_patients is not None:
        query = query.filter(Veterinarian.accepting_new_patients == accepting_new_patients)
    vets = query.order_by(Veterinarian.full_name).all()
    return [VeterinarianResponse.model_validate(v) for v in vets]


@app.get(
    "/veterinarians/{vet_id}",
    operation_id="get_veterinarian",
    summary="Get a veterinarian",
    description="Return one veterinarian's profile, specialty and contact details by ID.",
    tags=["Veterinarians"],
)
async def get_veterinarian(vet_id: int, db: Session = Depends(get_db)):
    vet = db.query(Veterinarian).filter(Veterinarian.id == vet_id).first()
    if not vet:
        return {"error": "Veterinarian not found"}
    return VeterinarianResponse.model_validate(vet)


@app.get(
    "/slots",
    operation_id="list_open_slots",
    summary="List open appointment slots",
    description="List future open appointment slots, optionally for one veterinarian and/or one calendar day, earliest first.",
    tags=["Appointments"],
)
async def list_open_slots(
    vet_id: Optional[int] = Query(None, description="Only slots of this veterinarian"),
    on_date: Optional[date] = Query(None, description="Only slots starting on this date (YYYY-MM-DD)"),
    limit: int = Query(50, ge=1, le=200, description="Maximum number of slots to return"),
    db: Session = Depends(get_db),
):
    query = db.query(AppointmentSlot).filter(
        AppointmentSlot.status == "open",
        AppointmentSlot.starts_at > datetime.utcnow(),
    )
    if vet_id is not None:
        query = query.filter(AppointmentSlot.vet_id == vet_id)
    if on_date is not None:
        day_start = datetime(on_date.year, on_date.month, on_date.day)
        query = query.filter(AppointmentSlot.starts_at >= day_start, AppointmentSlot.starts_at < day_start + timedelta(days=1))
    slots = query.order_by(AppointmentSlot.starts_at).limit(limit).all()
    return [SlotResponse.model_validate(s) for s in slots]


# ---------------------------------------------------------------------------
# Pets
# ---------------------------------------------------------------------------

@app.get(
    "/pets",
    operation_id="list_my_pets",
    summary="List my pets",
    description="List the logged-in owner's pets; deceased or rehomed pets are hidden unless include_inactive is true.",
    tags=["Pets"],
)
async def list_my_pets(
    animal_class: Optional[str] = Query(None, alias="class", description="Filter by animal class: mammal, bird, reptile, amphibian or fish"),
    species: Optional[str] = Query(None, description="Filter by species, e.g. Dog"),
    name: Optional[str] = Query(None, description="Partial name match"),
    include_inactive: bool = Query(False, description="Also return deceased or rehomed pets"),
    db: Session = Depends(get_db),
):
    query = db.query(Pet).filter(Pet.owner_id == CURRENT_USER_ID)
    if not include_inactive:
        query = query.filter(Pet.status == "active")
    if animal_class:
        query = query.filter(Pet.animal_class == animal_class.lower())
    if species:
        query = query.filter(Pet.species.ilike(f"%{species}%"))
    if name:
        query = query.filter(Pet.name.ilike(f"%{name}%"))
    pets = query.order_by(Pet.name).all()
    return [PetResponse.model_validate(p) for p in pets]


@app.get(
    "/pets/{pet_id}",
    operation_id="get_pet",
    summary="Get one of my pets",
    description="Return the full profile of one of the logged-in owner's pets by ID.",
    tags=["Pets"],
)
async def get_pet(pet_id: int, db: Session = Depends(get_db)):
    pet = db.query(Pet).filter(Pet.id == pet_id, Pet.owner_id == CURRENT_USER_ID).first()
    if not pet:
        return {"error": "Pet not found"}
    return PetResponse.model_validate(pet)


@app.post(
    "/pets",
    operation_id="register_pet",
    summary="Register a new pet",
    description="Add a new pet to the logged-in owner's account, optionally assigning a primary veterinarian.",
    tags=["Pets"],
)
async def register_pet(payload: PetCreate, db: Session = Depends(get_db)):
    if payload.animal_class.lower() not in ANIMAL_CLASSES:
        return {"error": f"class must be one of: {', '.join(ANIMAL_CLASSES)}"}
    if payload.primary_vet_id is not None:
        vet = db.query(Veterinarian).filter(Veterinarian.id == payload.primary_vet_id).first()
        if not vet:
            return {"error": "Veterinarian not found"}
    data = payload.model_dump()
    data["animal_class"] = data["animal_class"].lower()
    pet = Pet(**data, owner_id=CURRENT_USER_ID, status="active", created_at=datetime.utcnow(), updated_at=datetime.utcnow())
    db.add(pet)
    db.commit()
    db.refresh(pet)
    return PetResponse.model_validate(pet)


@app.put(
    "/pets/{pet_id}",
    operation_id="update_pet",
    summary="Update one of my pets",
    description="Update a pet's details such as name, class, species, breed, weight, microchip or primary veterinarian.",
    tags=["Pets"],
)
async def update_pet(pet_id: int, payload: PetUpdate, db: Session = Depends(get_db)):
    pet = db.query(Pet).filter(Pet.id == pet_id, Pet.owner_id == CURRENT_USER_ID).first()
    if not pet:
        return {"error": "Pet not found"}
    updates = payload.model_dump(exclude_unset=True)
    if "animal_class" in updates:
        if updates["animal_class"] is None or updates["animal_class"].lower() not in ANIMAL_CLASSES:
            return {"error": f"class must be one of: {', '.join(ANIMAL_CLASSES)}"}
        updates["animal_class"] = updates["animal_class"].lower()
    if updates.get("primary_vet_id") is not None:
        vet = db.query(Veterinarian).filter(Veterinarian.id == updates["primary_vet_id"]).first()
        if not vet:
            return {"error": "Veterinarian not found"}
    for key, value in updates.items():
        setattr(pet, key, value)
    pet.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(pet)
    return PetResponse.model_validate(pet)


# ---------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------

@app.get(
    "/appointments",
    operation_id="list_my_appointments",
    summary="List my appointments",
    description="List the owner's past and upcoming appointments, newest first, filtered by pet, status or date range.",
    tags=["Appointments"],
)
async def list_my_appointments(
    pet_id: Optional[int] = Query(None, description="Only appointments for this pet"),
    status: Optional[str] = Query(None, description="scheduled, completed, cancelled or no_show"),
    from_date: Optional[date] = Query(None, description="Only appointments on or after this date (YYYY-MM-DD)"),
    to_date: Optional[date] = Query(None, description="Only appointments on or before this date (YYYY-MM-DD)"),
    limit: int = Query(20, ge=1, le=100, description="Maximum number of appointments to return"),
    db: Session = Depends(get_db),
):
    query = db.query(Appointment).filter(Appointment.owner_id == CURRENT_USER_ID)
    if pet_id is not None:
        query = query.filter(Appointment.pet_id == pet_id)
    if status:
        query = query.filter(Appointment.status == status)
    if from_date is not None:
        query = query.filter(Appointment.scheduled_at >= datetime(from_date.year, from_date.month, from_date.day))
    if to_date is not None:
        query = query.filter(Appointment.scheduled_at < datetime(to_date.year, to_date.month, to_date.day) + timedelta(days=1))
    appointments = query.order_by(Appointment.scheduled_at.desc()).limit(limit).all()
    return [AppointmentResponse.model_validate(a) for a in appointments]


@app.get(
    "/appointments/{appointment_id}",
    operation_id="get_appointment",
    summary="Get an appointment",
    description="Return one of the owner's appointments by ID, including visit notes for completed visits.",
    tags=["Appointments"],
)
async def get_appointment(appointment_id: int, db: Session = Depends(get_db)):
    appointment = db.query(Appointment).filter(
        Appointment.id == appointment_id, Appointment.owner_id == CURRENT_USER_ID
    ).first()
    if not appointment:
        return {"error": "Appointment not found"}
    return AppointmentResponse.model_validate(appointment)


@app.post(
    "/appointments",
    operation_id="book_appointment",
    summary="Book an appointment in an open slot",
    description="Book one of the owner's active pets into an open future slot; the slot's vet, time and length are used.",
    tags=["Appointments"],
)
async def book_appointment(payload: AppointmentCreate, db: Session = Depends(get_db)):
    pet = db.query(Pet).filter(Pet.id == payload.pet_id, Pet.owner_id == CURRENT_USER_ID).first()
    if not pet or pet.status != "active":
        return {"error": "Pet not found"}
    if payload.visit_type not in VISIT_TYPES:
        return {"error": f"visit_type must be one of: {', '.join(VISIT_TYPES)}"}
    slot = db.query(AppointmentSlot).filter(AppointmentSlot.id == payload.slot_id).first()
    if not slot:
        return {"error": "Slot not found"}
    if slot.status != "open":
        return {"error": "Slot is no longer available"}
    if slot.starts_at <= datetime.utcnow():
        return {"error": "Slot is in the past"}
    appointment = Appointment(
        owner_id=CURRENT_USER_ID,
        pet_id=pet.id,
        vet_id=slot.vet_id,
        slot_id=slot.id,
        scheduled_at=slot.starts_at,
        duration_minutes=slot.duration_minutes,
        visit_type=payload.visit_type,
        reason=payload.reason,
        status="scheduled",
        created_at=datetime.utcnow(),
        updated_at=datetime.utcnow(),
    )
    slot.status = "booked"
    db.add(appointment)
    db.commit()
    db.refresh(appointment)
    return AppointmentResponse.model_validate(appointment)


@app.patch(
    "/appointments/{appointment_id}",
    operation_id="reschedule_appointment",
    summary="Reschedule an appointment to another slot",
    description="Move a scheduled appointment to another open slot; the old slot is released and the vet follows the new slot.",
    tags=["Appointments"],
)
async def reschedule_appointment(appointment_id: int, payload: AppointmentReschedule, db: Session = Depends(get_db)):
    appointment = db.query(Appointment).filter(
        Appointment.id == appointment_id, Appointment.owner_id == CURRENT_USER_ID
    ).first()
    if not appointment:
        return {"error": "Appointment not found"}
    if appointment.status != "scheduled":
        return {"error": f"Only scheduled appointments can be rescheduled (status is {appointment.status})"}
    new_slot = db.query(AppointmentSlot).filter(AppointmentSlot.id == payload.slot_id).first()
    if not new_slot:
        return {"error": "Slot not found"}
    if new_slot.status != "open":
        return {"error": "Slot is no longer available"}
    if new_slot.starts_at <= datetime.utcnow():
        return {"error": "Slot is in the past"}
    if appointment.slot_id is not None:
        old_slot = db.query(AppointmentSlot).filter(AppointmentSlot.id == appointment.slot_id).first()
        if old_slot:
            old_slot.status = "open"
    new_slot.status = "booked"
    appointment.slot_id = new_slot.id
    appointment.vet_id = new_slot.vet_id
    appointment.scheduled_at = new_slot.starts_at
    appointment.duration_minutes = new_slot.duration_minutes
    if payload.reason is not None:
        appointment.reason = payload.reason
    appointment.updated_at = datetime.utcnow()
    db.commit()
    db.refresh(appointment)
    return AppointmentResponse.model_validate(appointment)


@app.post(
    "/appointments/{appointment_id}/cancel",
    operation_id="cancel_appointment",
    summary="Cancel an appointment",
    description="Cancel one of the owner's scheduled appointments and release its slot for other clients.",
    tags=["Appointments"],
)
async def cancel_appointment(appointment_id: int, payload: AppointmentCancel = AppointmentCancel(), db: Session = Depends(get_db)):
    appointment = db.query(Appointment).filter(
        Appointment.id == appointment_id, Appointment.owner_id == CURRENT_USER_ID
    ).first()
    if not appointment:
        return {"error": "Appointment not found"}
    if appointment.status != "scheduled":
        return {"error": f"Only scheduled appointments can be cancelled (status is {appointment.status})"}
    appointment.status = "cancelled"
    appointment.cancellation_reason = payload.cancellation_reason
    appointment.updated_at = datetime.utcnow()
    if appointment.slot_id is not None:
        slot = db.query(AppointmentSlot).filter(AppointmentSlot.id == appointment.slot_id).first()
        if slot and slot.starts_at > datetime.utcnow():
            slot.status = "open"
    db.commit()
    db.refresh(appointment)
    return AppointmentResponse.model_validate(appointment)


# ---------------------------------------------------------------------------
# Vaccinations
# ---------------------------------------------------------------------------

@app.get(
    "/pets/{pet_id}/vaccinations",
    operation_id="list_pet_vaccinations",
    summary="List a pet's vaccination history",
    description="List every vaccination recorded for one of the owner's pets, most recent first, with next due dates.",
    tags=["Vaccinations"],
)
async def list_pet_vaccinations(pet_id: int, db: Session = Depends(get_db)):
    pet = db.query(Pet).filter(Pet.id == pet_id, Pet.owner_id == CURRENT_USER_ID).first()
    if not pet:
        return {"error": "Pet not found"}
    vaccinations = (
        db.query(Vaccination)
        .filter(Vaccination.pet_id == pet_id)
        .order_by(Vaccination.administered_on.desc())
        .all()
    )
    return [VaccinationResponse.model_validate(v) for v in vaccinations]


@app.get(
    "/vaccinations/due",
    operation_id="list_due_vaccinations",
    summary="List overdue and upcoming vaccinations",
    description="List vaccinations of the owner's active pets that are overdue or due within the next N days.",
    tags=["Vaccinations"],
)
async def list_due_vaccinations(
    within_days: int = Query(30, ge=0, le=365, description="Include vaccines due within this many days from today"),
    db: Session = Depends(get_db),
):
    today = datetime.utcnow().date()
    cutoff = today + timedelta(days=within_days)
    rows = (
        db.query(Vaccination, Pet)
        .join(Pet, Vaccination.pet_id == Pet.id)
        .filter(Pet.owner_id == CURRENT_USER_ID, Pet.status == "active")
        .filter(Vaccination.next_due_date != None, Vaccination.next_due_date <= cutoff)  # noqa: E711
        .order_by(Vaccination.next_due_date)
        .all()
    )
    results = []
    for vaccination, pet in rows:
        item = VaccinationResponse.model_validate(vaccination).model_dump(mode="json")
        item["pet_name"] = pet.name
        item["is_overdue"] = vaccination.next_due_date < today
        item["days_until_due"] = (vaccination.next_due_date - today).days
        results.append(item)
    return results


# ---------------------------------------------------------------------------
# Prescriptions and refills
# ---------------------------------------------------------------------------

@app.get(
    "/prescriptions",
    operation_id="list_my_prescriptions",
    summary="List my pets' prescriptions",
    description="List prescriptions for the owner's pets with refills remaining and refill status; filter by pet or status.",
    tags=["Prescriptions"],
)
async def list_my_prescriptions(
    pet_id: Optional[int] = Query(None, description="Only prescriptions for this pet"),
    status: Optional[str] = Query(None, description="active, expired or discontinued"),
    db: Session = Depends(get_db),
):
    query = db.query(Prescription).join(Pet, Prescription.pet_id == Pet.id).filter(Pet.owner_id == CURRENT_USER_ID)
    if pet_id is not None:
        query = query.filter(Prescription.pet_id == pet_id)
    if status:
        query = query.filter(Prescription.status == status)
    prescriptions = query.order_by(Prescription.prescribed_on.desc()).all()
    return [PrescriptionResponse.model_validate(p) for p in prescriptions]


@app.get(
    "/prescriptions/{prescription_id}",
    operation_id="get_prescription",
    summary="Get a prescription",
    description="Return one prescription for one of the owner's pets, including dosage instructions and refill state.",
    tags=["Prescriptions"],
)
async def get_prescription(prescription_id: int, db: Session = Depends(get_db)):
    prescription = (
        db.query(Prescription)
        .join(Pet, Prescription.pet_id == Pet.id)
        .filter(Prescription.id == prescription_id, Pet.owner_id == CURRENT_USER_ID)
        .first()
    )
    if not prescription:
        return {"error": "Prescription not found"}
    return PrescriptionResponse.model_validate(prescription)


@app.post(
    "/prescriptions/{prescription_id}/refill-request",
    operation_id="request_prescription_refill",
    summary="Request a prescription refill",
    description="Ask the clinic pharmacy to refill an active prescription that has refills left, for pickup or delivery.",
    tags=["Prescriptions"],
)
async def request_prescription_refill(prescription_id: int, payload: RefillRequestCreate = RefillRequestCreate(), db: Session = Depends(get_db)):
    prescription = (
        db.query(Prescription)
        .join(Pet, Prescription.pet_id == Pet.id)
        .filter(Prescription.id == prescription_id, Pet.owner_id == CURRENT_USER_ID)
        .first()
    )
    if not prescription:
        return {"error": "Prescription not found"}
    if payload.pickup_method not in PICKUP_METHODS:
        return {"error": "pickup_method must be 'pickup' or 'delivery'"}
    if prescription.status != "active":
        return {"error": f"Prescription is {prescription.status}; contact the clinic for a new prescription"}
    if prescription.expires_on is not None and prescription.expires_on < datetime.utcnow().date():
        return {"error": "Prescription has expired"}
    if prescription.refills_remaining <= 0:
        return {"error": "No refills remaining on this prescription"}
    if prescription.refill_status in ["requested", "approved"]:
        return {"error": "A refill request is already in progress for this prescription"}
    prescription.refill_status = "requested"
    prescription.refill_pickup_method = payload.pickup_method
    prescription.refill_requested_at = datetime.utcnow()
    prescription.refill_notes = payload.notes
    db.commit()
    db.refresh(prescription)
    return PrescriptionResponse.model_validate(prescription)


@app.delete(
    "/prescriptions/{prescription_id}/refill-request",
    operation_id="cancel_refill_request",
    summary="Withdraw a pending refill request",
    description="Withdraw a refill request that the pharmacy has not approved yet.",
    tags=["Prescriptions"],
)
async def cancel_refill_request(prescription_id: int, db: Session = Depends(get_db)):
    prescription = (
        db.query(Prescription)
        .join(Pet, Prescription.pet_id == Pet.id)
        .filter(Prescription.id == prescription_id, Pet.owner_id == CURRENT_USER_ID)
        .first()
    )
    if not prescription:
        return {"error": "Prescription not found"}
    if prescription.refill_status != "requested":
        return {"error": "There is no pending refill request to withdraw"}
    prescription.refill_status = "none"
    prescription.refill_pickup_method = None
    prescription.refill_requested_at = None
    prescription.refill_notes = None
    db.commit()
    return {"message": "Refill request withdrawn", "prescription_id": prescription_id}


# ---------------------------------------------------------------------------
# Billing
# ---------------------------------------------------------------------------

@app.get(
    "/invoices",
    operation_id="list_my_invoices",
    summary="List my invoices",
    description="List the owner's invoices, newest first, with the balance due on each; filter by status or pet.",
    tags=["Billing"],
)
async def list_my_invoices(
    status: Optional[str] = Query(None, description="unpaid, partially_paid, paid or void"),
    pet_id: Optional[int] = Query(None, description="Only invoices for this pet"),
    limit: int = Query(25, ge=1, le=100, description="Maximum number of invoices to return"),
    db: Session = Depends(get_db),
):
    query = db.query(Invoice).filter(Invoice.owner_id == CURRENT_USER_ID)
    if status:
        query = query.filter(Invoice.status == status)
    if pet_id is not None:
        query = query.filter(Invoice.pet_id == pet_id)
    invoices = query.order_by(Invoice.issued_on.desc(), Invoice.id.desc()).limit(limit).all()
    return [invoice_to_response(i) for i in invoices]


@app.get(
    "/invoices/{invoice_id}",
    operation_id="get_invoice",
    summary="Get an invoice",
    description="Return one of the owner's invoices by ID with its total, amount paid and balance due.",
    tags=["Billing"],
)
async def get_invoice(invoice_id: int, db: Session = Depends(get_db)):
    invoice = db.query(Invoice).filter(Invoice.id == invoice_id, Invoice.owner_id == CURRENT_USER_ID).first()
    if not invoice:
        return {"error": "Invoice not found"}
    return invoice_to_response(invoice)


@app.post(
    "/invoices/{invoice_id}/payments",
    operation_id="pay_invoice",
    summary="Pay an invoice",
    description="Record a full or partial payment on one of the owner's open invoices; it is marked paid once fully covered.",
    tags=["Billing"],
)
async def pay_invoice(invoice_id: int, payload: PaymentCreate, db: Session = Depends(get_db)):
    invoice = db.query(Invoice).filter(Invoice.id == invoice_id, Invoice.owner_id == CURRENT_USER_ID).first()
    if not invoice:
        return {"error": "Invoice not found"}
    if invoice.status == "void":
        return {"error": "This invoice has been voided and cannot be paid"}
    if invoice.status == "paid":
        return {"error": "This invoice is already paid in full"}
    if payload.payment_method not in PAYMENT_METHODS:
        return {"error": f"payment_method must be one of: {', '.join(PAYMENT_METHODS)}"}
    balance = round(invoice.total_amount - invoice.amount_paid, 2)
    amount = round(payload.amount, 2)
    if amount <= 0:
        return {"error": "Payment amount must be greater than zero"}
    if amount > balance + 0.005:
        return {"error": f"Payment exceeds the balance due of {balance:.2f}"}
    invoice.amount_paid = round(invoice.amount_paid + amount, 2)
    invoice.payment_method = payload.payment_method
    if invoice.amount_paid >= invoice.total_amount - 0.005:
        invoice.status = "paid"
        invoice.paid_at = datetime.utcnow()
    else:
        invoice.status = "partially_paid"
    db.commit()
    db.refresh(invoice)
    return invoice_to_response(invoice)


if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", 8000)))
