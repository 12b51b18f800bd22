"""Import every model module so Base.metadata knows every table (for Alembic and tests)."""
from app.audit.models import AuditEvent, AuditStream  # noqa: F401
from app.calendar.models import CalendarDay, CalendarYear  # noqa: F401
from app.cases.models import (Case, CaseExtension, CaseMaterialRecord, CaseRating, CaseState, CaseSuspension,  # noqa: F401
                              CaseTask, CaseParticipant, CaseWait, ExternalTask)
from app.cases.decision_models import CaseDecision  # noqa: F401
from app.cases.files_models import CaseFile  # noqa: F401
from app.catalog.models import PowerItem  # noqa: F401
from app.definitions.models import (DecisionFile, DefinitionCall, DefinitionStartMessage,  # noqa: F401
                                    ProcessDefinition)
from app.disclosure.models import PublicDecision, PublicDecisionCount  # noqa: F401
from app.documents.models import Document, DocumentCounter  # noqa: F401
from app.messages.models import ApplicantMessage  # noqa: F401
from app.orgs.models import ApiToken, OrgUnit, User, UserPost  # noqa: F401
from app.supervision.models import (NoticeDelivery, NoticeRecipient, OrderMessage, SupervisionNotice,  # noqa: F401
                                    SupervisionOrder, SupervisionRule)
from app.assessment.models import (AssessmentScheme, AssessmentVersion, CampaignDepartment,  # noqa: F401
                                   CampaignEvaluator, EvaluationCampaign, EvaluationResponse)
