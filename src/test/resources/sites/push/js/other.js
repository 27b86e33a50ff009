console.log("other page");
