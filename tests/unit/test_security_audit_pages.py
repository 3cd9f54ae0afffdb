"""Every id a listing returns is named in its audit event, on the largest page a caller may ask for."""

from shared.security.audit_log import ALLOWED, AuditTrail
from shared.validation import Query
from tests.history_support import AUDITOR
from tests.unit.test_grid_history import service, vault, world  # noqa: F401  (fixtures)

LARGEST_PAGE = Query.model_fields["page_size"].metadata[-1].le


def test_audited_list_largest_page_names_every_returned_id(world, service):  # noqa: F811  (imported fixtures)
    for _ in range(LARGEST_PAGE + 1):
        world.add_item()
    page = service(AUDITOR).list_work_items(page_size=LARGEST_PAGE, purpose="audit")
    returned = [item["item_id"] for item in page["items"]]
    [entry] = [e for e in AuditTrail(world.app).entries() if e.action == "list work items"]
    assert len(returned) == LARGEST_PAGE
    assert (entry.outcome, entry.record_ids[1:]) == (ALLOWED, returned)
