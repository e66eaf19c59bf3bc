# Pinned peer versions for the interop lab (read by install.sh and tests/interop/peers.py).
# LiteLLM: exactly this release; two others were compromised (BerriAI/litellm#24518). Never change it blindly.
LITELLM_VERSION=1.106.2
PRISMA_VERSION=0.15.0
CCR_PACKAGE=@musistudio/claude-code-router
CCR_VERSION=1.0.73
PORTKEY_PACKAGE=@portkey-ai/gateway
PORTKEY_VERSION=1.15.2
