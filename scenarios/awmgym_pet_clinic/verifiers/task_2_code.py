# reasoning: Write task. Exactly one new pet must appear for user 1: Ziggy, class reptile, a bearded dragon, male, hatched 2025-06-15, 0.42 kg, with Dr. Samuel Adeyemi (the avian & exotics vet) as primary vet. Existing pets (including other owners' reptiles) and all other tables must be unchanged.
# strategy: modification_based
# key_check: exactly one new row in pets, owned by user 1, named Ziggy, active
# key_check: the new pet's class column is 'reptile' and its species/breed says bearded dragon
# key_check: sex male, date_of_birth 2025-06-15, weight 0.42 kg, primary_vet_id is Dr. Samuel Adeyemi's id
# key_check: every pre-existing pet row and every other table is unchanged
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def _rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str = None) -> dict:
    for table in OTHER_TABLES:
        if _rows(initial_db_path, f"SELECT * FROM {table} ORDER BY id") != _rows(final_db_path, f"SELECT * FROM {table} ORDER BY id"):
            return {"result": "others", "reason": f"table {table} should not change"}

    initial_pets = {r[0]: r for r in _rows(initial_db_path, "SELECT * FROM pets")}
    final_pets = {r[0]: r for r in _rows(final_db_path, "SELECT * FROM pets")}
    for pet_id, row in initial_pets.items():
        if final_pets.get(pet_id) != row:
            return {"result": "others", "reason": f"existing pet {pet_id} was modified or deleted"}
    new_ids = [pid for pid in final_pets if pid not in initial_pets]
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected exactly one new pet, found {len(new_ids)}"}

    vet = _rows(initial_db_path, "SELECT id FROM veterinarians WHERE full_name LIKE '%Samuel Adeyemi%'")
    if not vet:
        return {"result": "others", "reason": "Dr. Samuel Adeyemi missing from the initial database"}
    adeyemi_id = vet[0][0]

    new = _rows(
        final_db_path,
        'SELECT owner_id, name, "class", species, breed, sex, date_of_birth, weight_kg, primary_vet_id, status FROM pets WHERE id = ?',
        (new_ids[0],),
    )[0]
    owner_id, name, animal_class, species, breed, sex, dob, weight, primary_vet_id, status = new
    if owner_id != 1:
        return {"result": "others", "reason": "new pet is not owned by user 1"}
    if (name or "").strip().lower() != "ziggy":
        return {"result": "others", "reason": f"new pet is named {name!r}"}
    if (animal_class or "").strip().lower() != "reptile":
        return {"result": "others", "reason": f"class is {animal_class!r}, expected reptile"}
    if "bearded dragon" not in f"{species or ''} {breed or ''}".lower():
        return {"result": "others", "reason": f"species/breed {species!r}/{breed!r} is not a bearded dragon"}
    if (sex or "").strip().lower() not in ("male", "m"):
        return {"result": "others", "reason": f"sex is {sex!r}"}
    if not str(dob or "").startswith("2025-06-15"):
        return {"result": "others", "reason": f"date_of_birth is {dob!r}"}
    if weight is None or abs(float(weight) - 0.42) > 0.001:
        return {"result": "others", "reason": f"weight_kg is {weight!r}"}
    if primary_vet_id != adeyemi_id:
        return {"result": "others", "reason": f"primary_vet_id is {primary_vet_id!r}, expected {adeyemi_id}"}
    if (status or "active") != "active":
        return {"result": "others", "reason": f"status is {status!r}"}
    return {"result": "complete", "new_pet_id": new_ids[0]}
