"""The product's rules, free of aiogram, shared by dialogs, merchant API, CLI and agents."""
