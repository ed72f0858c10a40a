"""The community app's tables, one module per area: partners and referrals, reflections,
integration-circle series and group agreements, peer-support pods, group-formation runs."""

from communitas.community.models.circles import *  # noqa: F403
from communitas.community.models.formation import *  # noqa: F403
from communitas.community.models.links import *  # noqa: F403
from communitas.community.models.partners import *  # noqa: F403
from communitas.community.models.pods import *  # noqa: F403
from communitas.community.models.reflections import *  # noqa: F403
