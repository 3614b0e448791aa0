"""掌上咨询: the knowledge base of guides and FAQs, search, and consultations answered by staff."""
