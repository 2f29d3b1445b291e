# reasoning: Write task; report the pets added for user 1, their class/species/sex/birth date/weight/primary vet, the id of Dr. Samuel Adeyemi, and whether any existing row or other table changed.
# success_criteria: Exactly one new pet owned by user 1 named Ziggy, class 'reptile', species bearded dragon, male, born 2025-06-15, 0.42 kg, primary_vet_id equal to Dr. Samuel Adeyemi's id; nothing else changed.
# failure_criteria: No pet created, a duplicate or second pet created, wrong class (e.g. mammal), wrong vet (e.g. general practice), wrong birth date or weight, or an existing pet modified.
import sqlite3

OTHER_TABLES = ["users", "veterinarians", "appointment_slots", "appointments", "vaccinations", "prescriptions", "invoices"]


def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    init = sqlite3.connect(initial_db_path)
    final = sqlite3.connect(final_db_path)
    changed = [t for t in OTHER_TABLES if init.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() != final.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()]
    initial_pets = {r[0]: r for r in init.execute("SELECT * FROM pets").fetchall()}
    final_pets = {r[0]: r for r in final.execute("SELECT * FROM pets").fetchall()}
    modified = [pid for pid, row in initial_pets.items() if final_pets.get(pid) != row]
    new_rows = []
    for pid in sorted(p for p in final_pets if p not in initial_pets):
        new_rows += final.execute(
            'SELECT id, owner_id, name, "class", species, breed, sex, date_of_birth, weight_kg, primary_vet_id, status '
            "FROM pets WHERE id = ?",
            (pid,),
        ).fetchall()
    adeyemi = init.execute("SELECT id, full_name, specialty FROM veterinarians WHERE full_name LIKE '%Adeyemi%'").fetchall()
    init.close()
    final.close()
    keys = ["id", "owner_id", "name", "class", "species", "breed", "sex", "date_of_birth", "weight_kg", "primary_vet_id", "status"]
    return {
        "pets_before": len(initial_pets),
        "pets_after": len(final_pets),
        "new_pets": [dict(zip(keys, r)) for r in new_rows],
        "dr_adeyemi": [{"id": r[0], "full_name": r[1], "specialty": r[2]} for r in adeyemi],
        "existing_pets_modified_or_deleted": modified,
        "other_tables_changed": changed,
    }
