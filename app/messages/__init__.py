"""Messages to the applicant (告知): what Sunlight tells the person whose case it is, by SMS, with an outbox.

A low room: it knows the database, the clock, the audit trail and the settings, never cases or supervision
(the case actions call `service.tell` in their own transaction).
"""
