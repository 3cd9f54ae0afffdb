"""A tiny application for testing the kernel apart from any service."""

from eventsourcing.domain import event
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, update

from shared.context import CallerContext, Role
from shared.contracts import Contracts, Payload
from shared.errors import InvalidTransition
from shared.eventstore import AuditedAggregate, Call, PinganApplication
from shared.projections import Projection, handles

CALL = Call(CallerContext(actor_id="officer-7", role=Role.COUNTY_OFFICER, jurisdiction="433101"), "call-123")


class Ticket(AuditedAggregate):
    @event("Opened")
    def __init__(self, title: str):
        self.title = title
        self.closed = False

    def close(self):
        if self.closed:
            raise InvalidTransition("already closed")
        self._closed()

    @event("Closed")
    def _closed(self):
        self.closed = True


class TicketsApplication(PinganApplication):
    name = "tickets"

    def open(self, call, title, command_id=None, inbox=None):
        def act():
            ticket = Ticket(title=title)
            return [ticket], {"ticket_id": str(ticket.id)}

        return self.execute(call, act, command_id, inbox)

    def close_ticket(self, call, ticket_id):
        def act():
            ticket = self.load(Ticket, ticket_id, "ticket")
            ticket.close()
            return [ticket], {"closed": True}

        return self.execute(call, act)


tickets = Table(
    "tickets_view", MetaData(),
    Column("ticket_id", String(36), primary_key=True),
    Column("title", String(100)),
    Column("closed", Integer),
)


class TicketsView(Projection):
    name = "tickets.view"
    tables = [tickets]

    @handles(Ticket.Opened)
    def on_opened(self, event, conn):
        conn.execute(insert(tickets).values(ticket_id=str(event.originator_id), title=event.title, closed=0))

    @handles(Ticket.Closed)
    def on_closed(self, event, conn):
        conn.execute(update(tickets).where(tickets.c.ticket_id == str(event.originator_id)).values(closed=1))


class TicketOpened(Payload):
    schema_version: int = 1
    ticket_id: str


def ticket_contracts():
    published = Contracts("tickets")
    published.publishes("ticket_opened", TicketOpened)

    @published.maps(Ticket.Opened)
    def opened(domain_event):
        yield "ticket_opened", TicketOpened(ticket_id=str(domain_event.originator_id))

    return published


def memory_app():
    return TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def sqlite_app(path):
    return TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
                                   "SQLALCHEMY_URL": f"sqlite:///{path}"})
