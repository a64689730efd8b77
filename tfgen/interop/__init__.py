"""Reading models trained by other code (the authors' PyTorch releases) into tfgen."""
